"""Moments from requests, in UTC: the one place that decides which moments the platform takes.

Python reads any UTC offset under 24 hours (`-21:31`); PostgreSQL takes offsets up to 15:59 only, so a
moment is turned to UTC before it goes anywhere. A moment in year 1 moved east, or in year 9999 moved
west, has no UTC form Python can hold; one within a day of either end could not be shown in every time
zone. So moments lie between EARLIEST and LATEST (UTC), and anything else is refused, naming the field.
"""

from datetime import UTC, datetime

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC)
OUT_OF_RANGE = "Must lie between 0001-01-02 and 9999-12-30 (UTC)."


def in_utc(moment: datetime) -> datetime:
    """`moment` (with a UTC offset) in UTC; ValueError if it has none or lies outside EARLIEST..LATEST."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("has no UTC offset")
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(OUT_OF_RANGE.rstrip(".").lower()) from None
    if not EARLIEST <= utc <= LATEST:
        raise ValueError(OUT_OF_RANGE.rstrip(".").lower())
    return utc


class MomentField(IsoDateTimeField):
    """django-filter's ISO 8601 field, with the moment in UTC and bounded (see `in_utc`)."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return in_utc(moment)
        except ValueError:
            raise forms.ValidationError(OUT_OF_RANGE, code="out_of_range") from None


class MomentFilter(django_filters.IsoDateTimeFilter):
    """The filter for every moment in a query (`active_at`, `after`, `received_after`...): use it, not
    django-filter's date-time filters (tests/robustness checks every filterset)."""

    field_class = MomentField
