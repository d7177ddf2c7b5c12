"""JSON types as the OpenAPI document states them, for every serializer, and the one reading of a boolean.

DRF's CharField takes a number for text (`"description": 0` is stored as "0") and its BooleanField takes
`0`, `1`, `"yes"` or `"on"` for a boolean, although the document, which drf-spectacular builds from the
same fields, says `string` and `boolean`: a client's bug goes unnoticed, and the contract lies.
`refuse_loose_types()` (run once, from api.apps) makes those a 422 on the field, like any other value of
the wrong type. A query string is all text: there a boolean is the word `true` or `false`
(`query_boolean`), read before the field sees it (api.params, api.filters).
"""

from rest_framework import fields

# How a boolean is written in a query string (what the document's `type: boolean` parameter means).
QUERY_BOOLEANS = {"true": True, "false": False}


def query_boolean(text):
    """True or False for the word, else the text unchanged (for the field to refuse)."""
    return QUERY_BOOLEANS.get(text, text) if isinstance(text, str) else text


def refuse_loose_types() -> None:
    if getattr(fields.CharField.to_internal_value, "strict", False):
        return
    text, boolean = fields.CharField.to_internal_value, fields.BooleanField.to_internal_value

    def text_only(self, data):
        if not isinstance(data, str):
            self.fail("invalid")  # "Not a valid string."
        return text(self, data)

    def boolean_only(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")  # "Must be a valid boolean."
        return boolean(self, data)

    text_only.strict = boolean_only.strict = True
    fields.CharField.to_internal_value = text_only
    fields.BooleanField.to_internal_value = boolean_only
