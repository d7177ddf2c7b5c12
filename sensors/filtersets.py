"""Filters for sensor types, sensors and areas."""

from datetime import UTC, datetime, time, timedelta

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from api.filters import FilterSet
from api.moments import MomentFilter
from sensors import selectors
from sensors.models import Area, AreaType, IdentifiersKept, Sensor, SensorStatus, SensorType, Visibility


class BBoxField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            numbers = [float(part) for part in value.split(",")]
        except ValueError:
            raise forms.ValidationError("bbox is min_lon,min_lat,max_lon,max_lat in degrees.") from None
        if len(numbers) != 4 or numbers[0] > numbers[2] or numbers[1] > numbers[3]:
            raise forms.ValidationError("bbox is min_lon,min_lat,max_lon,max_lat with min <= max.")
        return numbers


@extend_schema_field(OpenApiTypes.STR)
class BBoxFilter(django_filters.Filter):
    """`bbox=min_lon,min_lat,max_lon,max_lat`; `selector` decides what lies inside."""

    field_class = BBoxField

    def __init__(self, *args, selector, **kwargs):
        super().__init__(*args, **kwargs)
        self.selector = selector

    def filter(self, queryset, value):
        return self.selector(queryset, *value) if value else queryset


class SensorTypeFilterSet(FilterSet):
    class Meta:
        model = SensorType
        fields = ["code", "privacy_risk"]


class SensorFilterSet(FilterSet):
    type = django_filters.CharFilter(field_name="sensor_type__code", label="sensor type code")
    controller = django_filters.CharFilter(field_name="controller__slug")
    operator = django_filters.CharFilter(field_name="operator__slug")
    organisation = django_filters.CharFilter(method="filter_organisation", label="controller or operator slug")
    status = django_filters.MultipleChoiceFilter(choices=SensorStatus.choices)
    visibility = django_filters.ChoiceFilter(choices=Visibility.choices)
    identifiers_kept = django_filters.ChoiceFilter(choices=IdentifiersKept.choices)
    personal_data = django_filters.BooleanFilter(field_name="personal_data_at_edge")
    area = django_filters.NumberFilter(field_name="area_id")
    bbox = BBoxFilter(selector=selectors.in_bbox, label="min_lon,min_lat,max_lon,max_lat")
    active_at = MomentFilter(method="filter_active_at", label="active at this time")
    name = django_filters.CharFilter(lookup_expr="icontains")
    # Days in UTC, as a date alone means everywhere else (sensors/service_life.py): both ends inclusive.
    installed_after = django_filters.DateFilter(
        method="filter_installed_after", label="installed on or after (UTC day)"
    )
    installed_before = django_filters.DateFilter(
        method="filter_installed_before", label="installed on or before (UTC day)"
    )

    class Meta:
        model = Sensor
        fields = ["reference"]

    def filter_organisation(self, queryset, name, value):
        return queryset.filter(controller__slug=value) | queryset.filter(operator__slug=value)

    def filter_active_at(self, queryset, name, value):
        return selectors.active_at(queryset, value)

    def filter_installed_after(self, queryset, name, value):
        return queryset.filter(installed_at__gte=datetime.combine(value, time.min, UTC))

    def filter_installed_before(self, queryset, name, value):
        return queryset.filter(installed_at__lt=datetime.combine(value + timedelta(days=1), time.min, UTC))


class AreaFilterSet(FilterSet):
    owner = django_filters.CharFilter(field_name="owner__slug")
    area_type = django_filters.MultipleChoiceFilter(choices=AreaType.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")
    bbox = BBoxFilter(selector=selectors.areas_in_bbox, label="min_lon,min_lat,max_lon,max_lat")

    class Meta:
        model = Area
        fields = ["owner", "area_type", "name"]
