"""JSON types as the OpenAPI document states them, for every serializer.

DRF's CharField takes a number for text (`"description": 0` is stored as "0") although the document, which
drf-spectacular builds from the same field, says `string`: a client's bug goes unnoticed, and the contract
lies. `refuse_numbers_as_text()` (run once, from api.apps) makes a non-string a 422 on that field, like any
other value of the wrong type. Query parameters and CSV cells are text already, so only JSON bodies differ.
"""

from rest_framework import fields


def refuse_numbers_as_text() -> None:
    original = fields.CharField.to_internal_value
    if getattr(original, "refuses_numbers", False):
        return

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")  # "Not a valid string."
        return original(self, data)

    to_internal_value.refuses_numbers = True
    fields.CharField.to_internal_value = to_internal_value
