"""Filters for purposes, grants and access events."""

import django_filters

from api.filters import FilterSet
from api.moments import MomentFilter
from purposes.models import AccessEvent, AccessLevel, Grant, Purpose, PurposeCategory, PurposeStatus


class PurposeFilterSet(FilterSet):
    holder = django_filters.CharFilter(field_name="holder__slug")
    category = django_filters.MultipleChoiceFilter(choices=PurposeCategory.choices)
    status = django_filters.MultipleChoiceFilter(choices=PurposeStatus.choices)
    title = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Purpose
        fields = ["holder", "category", "status", "legal_basis", "title"]


class GrantFilterSet(FilterSet):
    # A number, not a choice of datasets: another organisation's dataset answers like a missing one.
    dataset = django_filters.NumberFilter(field_name="dataset_id")
    purpose = django_filters.CharFilter(field_name="purpose__code")
    grantee = django_filters.CharFilter(field_name="grantee__slug")
    level = django_filters.ChoiceFilter(choices=AccessLevel.choices)
    revoked = django_filters.BooleanFilter(field_name="revoked_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Grant
        fields = ["dataset", "purpose", "grantee", "level", "revoked"]


class AccessEventFilterSet(FilterSet):
    purpose = django_filters.CharFilter(field_name="purpose_code")
    dataset = django_filters.NumberFilter(field_name="datasets__dataset_id", distinct=True)
    decision = django_filters.ChoiceFilter(choices=AccessEvent.Decision.choices)
    reason = django_filters.CharFilter()
    after = MomentFilter(field_name="at", lookup_expr="gte")
    before = MomentFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AccessEvent
        fields = ["purpose", "dataset", "decision", "reason", "after", "before", "endpoint"]
