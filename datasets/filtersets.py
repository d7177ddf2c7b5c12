"""Filters for schemas, datasets and ingest batches."""

import django_filters

from api.filters import FilterSet
from datasets.models import AccessClassification, Dataset, DatasetStatus, IngestBatch, StandardSchema


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
    sensor = django_filters.NumberFilter(field_name="sensors")

    class Meta:
        model = Dataset
        fields = ["owner", "schema", "access", "status", "title", "sensor"]


# How a batch was sent (IngestBatch.source_format).
SOURCE_FORMATS = ["json", "ndjson", "csv", "fiware"]


class IngestBatchFilterSet(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=IngestBatch.Status.choices)
    source_format = django_filters.ChoiceFilter(choices=[(name, name) for name in SOURCE_FORMATS])
    received_after = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")

    class Meta:
        model = IngestBatch
        fields = ["status", "source_format", "idempotency_key"]
