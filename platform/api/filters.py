"""The base of every FilterSet: query parameters parsed as strictly as the OpenAPI document describes them.

django-filter is lenient where the document is not: a boolean filter takes `null` or `maybe` as "no filter",
a number filter documented as an integer takes `0.5`, and any filter given empty (`?status=`) is left out.
A client then gets every row when it asked for some. Here each of those is a 422 naming the parameter, as
any other filter that does not validate (`errors[].pointer` is `/<parameter>`).
"""

import django_filters
from django import forms
from django.db import models
from django_filters.utils import get_model_field, translate_validation

from api.json_types import query_boolean

# Model fields whose values are fractions: a number filter on anything else (ids, counts, a method's
# `value: int`) is documented as `integer`, and read as one.
FRACTION_FIELDS = (models.FloatField, models.DecimalField)


class StrictBooleanField(forms.Field):
    """`true` or `false` (api.json_types.query_boolean: the one reading of a boolean in a query string)."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        boolean = query_boolean(value)
        if not isinstance(boolean, bool):
            raise forms.ValidationError("Must be true or false.", code="invalid")
        return boolean


class FilterSet(django_filters.FilterSet):
    """Refuses what the document refuses: a bad boolean, a fraction for an id, an empty non-text value."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for filter_ in self.filters.values():  # copies of the class's filters, made for this instance
            if isinstance(filter_, django_filters.BooleanFilter):
                filter_.field_class = StrictBooleanField
                filter_.extra.pop("widget", None)
            elif type(filter_) is django_filters.NumberFilter and self._integer(filter_):
                filter_.field_class = forms.IntegerField

    def _integer(self, filter_) -> bool:
        model_field = get_model_field(self._meta.model, filter_.field_name) if self._meta.model else None
        return not isinstance(model_field, FRACTION_FIELDS)

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if not self.is_bound:
            return valid
        for name, filter_ in self.filters.items():
            # Text may be empty; a number, a date, a choice or a boolean may not.
            if isinstance(filter_.field, forms.CharField):
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data.get(name)]
            if "" in values and name not in self.form.errors:
                self.form.add_error(name, forms.ValidationError("Give a value, or leave the parameter out.", "blank"))
        return not self.form.errors

    @property
    def qs(self):
        # Also when a view uses the FilterSet itself, not through the filter backend: never ignore a bad value.
        if self.is_bound and not self.is_valid():
            raise translate_validation(self.errors)
        return super().qs
