"""Filters for schemas, datasets and ingest batches."""

import django_filters

from accounts.selectors import ANONYMOUS
from api.caller import caller_of
from api.filters import FilterSet
from api.moments import MomentFilter
from datasets.models import AccessClassification, Dataset, DatasetStatus, IngestBatch, StandardSchema
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


# How a batch was sent (IngestBatch.source_format).
SOURCE_FORMATS = ["json", "ndjson", "csv", "fiware"]


class IngestBatchFilterSet(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=IngestBatch.Status.choices)
    source_format = django_filters.ChoiceFilter(choices=[(name, name) for name in SOURCE_FORMATS])
    received_after = MomentFilter(field_name="received_at", lookup_expr="gte")

    class Meta:
        model = IngestBatch
        fields = ["status", "source_format", "idempotency_key"]
