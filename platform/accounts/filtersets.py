"""Filters for the accounts lists."""

import django_filters

from accounts.models import ApiKey, Organisation, OrganisationKind, Role
from api.filters import FilterSet


class OrganisationFilterSet(FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    kind = django_filters.MultipleChoiceFilter(choices=OrganisationKind.choices)

    class Meta:
        model = Organisation
        fields = ["slug", "name", "kind", "contact_email"]


class ApiKeyFilterSet(FilterSet):
    organisation = django_filters.CharFilter(field_name="organisation__slug")
    role = django_filters.MultipleChoiceFilter(choices=Role.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = ApiKey
        fields = ["prefix", "name", "organisation", "role", "revoked"]
