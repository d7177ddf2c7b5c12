"""Filters for schemas, datasets and ingest batches."""

import django_filters
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.selectors import ANONYMOUS
from api.caller import caller_of
from api.filters import FilterSet
from api.moments import MomentFilter
from datasets.models import AccessClassification, Dataset, DatasetStatus, IngestBatch, StandardSchema, Theme
from sensors.models import Sensor
from sensors.selectors import sensors_visible_q


class StandardSchemaFilterSet(FilterSet):
    title = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = StandardSchema
        fields = ["code", "title"]


class DatasetFilterSet(FilterSet):
    owner = django_filters.CharFilter(field_name="owner__slug")
    schema = django_filters.CharFilter(field_name="schema_version__schema__code")
    access = django_filters.MultipleChoiceFilter(choices=AccessClassification.choices)
    status = django_filters.MultipleChoiceFilter(choices=DatasetStatus.choices)
    title = django_filters.CharFilter(lookup_expr="icontains")
    sensor = django_filters.NumberFilter(method="filter_sensor", label="fed by this sensor")

    class Meta:
        model = Dataset
        fields = ["owner", "schema", "access", "status", "title", "sensor"]

    def filter_sensor(self, queryset, name, value: int):
        # Only among the sensors the caller may see: a restricted sensor's datasets are not found by its id.
        if value != int(value) or not 0 < value < 2**63:
            return queryset.none()
        caller = caller_of(self.request) if self.request is not None else ANONYMOUS
        visible = Sensor.objects.filter(sensors_visible_q(caller), pk=int(value))
        return queryset.filter(sensors__in=visible)


# The catalogue page's free text: at most this many characters and words (each word must match somewhere).
SEARCH_MAX_LENGTH = 200
SEARCH_MAX_WORDS = 10
# The keywords are searched in their JSON text (SQLite has no JSON `contains`): a word with the list's syntax in it
# would match every list, so such a word is looked for in the title and the description only.
JSON_SYNTAX = frozenset('[]",\\')


class CatalogueFilterSet(FilterSet):
    """The catalogue page's search (web/catalogue): free text, theme, publishing organisation, schema and area.

    Filters a queryset of catalogue datasets (public_datasets); the choices it offers are the page's to list."""

    q = django_filters.CharFilter(method="filter_text", max_length=SEARCH_MAX_LENGTH, label=_("Search"), strip=True)
    theme = django_filters.ChoiceFilter(choices=Theme.choices, method="filter_theme", label=_("Theme"))
    organisation = django_filters.CharFilter(field_name="owner__slug", max_length=80, label=_("Organisation"))
    schema = django_filters.CharFilter(field_name="schema_version__schema__code", max_length=60, label=_("Schema"))
    area = django_filters.NumberFilter(method="filter_area", min_value=1, max_value=2**62, label=_("Area"))

    class Meta:
        model = Dataset
        fields = ["q", "theme", "organisation", "schema", "area"]

    def filter_text(self, queryset, name, value: str):
        # Every word somewhere in the title, the description or a keyword; LIKE's wildcards are escaped.
        for word in value.split()[:SEARCH_MAX_WORDS]:
            anywhere = Q(title__icontains=word) | Q(description__icontains=word)
            if not JSON_SYNTAX.intersection(word):
                anywhere |= Q(keywords__icontains=word)
            queryset = queryset.filter(anywhere)
        return queryset

    def filter_theme(self, queryset, name, value: str):
        # The JSON list's text holds each code in quotes (the same on PostgreSQL and SQLite, which has no
        # `contains` for JSON); codes are from the vocabulary, so no quote comes in.
        return queryset.filter(themes__icontains=f'"{value}"')

    def filter_area(self, queryset, name, value: int):
        # Only areas a dataset publishes: its owner's own (datasets.selectors.dataset_places); one filter(), one join.
        return queryset.filter(areas__pk=value, areas__owner_id=F("owner_id")).distinct()


# How a batch was sent (IngestBatch.source_format).
SOURCE_FORMATS = ["json", "ndjson", "csv", "fiware"]


class IngestBatchFilterSet(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=IngestBatch.Status.choices)
    source_format = django_filters.ChoiceFilter(choices=[(name, name) for name in SOURCE_FORMATS])
    received_after = MomentFilter(field_name="received_at", lookup_expr="gte")

    class Meta:
        model = IngestBatch
        fields = ["status", "source_format", "idempotency_key"]
