"""The crowd indicators: their definitions (no login) and their values (for a declared purpose, `aggregate`)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from api.params import query_parameters
from api.renderers import CSVRenderer, FastJSONRenderer
from api.views import PublicAPIView, PurposeBoundAPIView
from datasets import selectors
from datasets.api.records import DataQuerySerializer, ZonedCellsMixin
from datasets.indicators import definitions, values
from datasets.models import Dataset

DEFAULT_ZONE = "Europe/Amsterdam"
MAX_CELLS = 100_000


def ids() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=2**62)


def indicator_or_404(code: str) -> definitions.Indicator:
    found = definitions.indicator(code)
    if found is None:
        raise exceptions.NotFound(f"No indicator {code!r}: see GET /api/v1/indicators/.")
    return found


class IndicatorDefinitionSerializer(serializers.Serializer):
    """One definition (documentation of the response; datasets.indicators.definitions builds it)."""

    code = serializers.CharField()
    version = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    formula = serializers.DictField(child=serializers.CharField(), help_text="`words` and `symbols`.")
    unit = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField(), help_text="area and/or sensor.")
    privacy = serializers.CharField(help_text="persons: small cells are suppressed; none: no persons counted.")
    inputs = serializers.ListField(child=serializers.DictField(), help_text="Schemas, measures, aggregation.")
    parameters = serializers.ListField(
        child=serializers.DictField(), help_text="Name, default, unit; `local` ones come from the area."
    )
    levels = serializers.ListField(child=serializers.DictField())
    sources = serializers.ListField(child=serializers.CharField())
    limitations = serializers.ListField(child=serializers.CharField())


class IndicatorListSerializer(serializers.Serializer):
    results = IndicatorDefinitionSerializer(many=True)


class IndicatorListView(PublicAPIView):
    openapi_tag = "indicators"

    @extend_schema(
        summary="The crowd indicators: definitions, formulas, inputs, parameters, sources (no login)",
        responses=IndicatorListSerializer,
        operation_id="indicators_list",
    )
    def get(self, request):
        return Response({"results": [found.as_dict() for found in definitions.INDICATORS.values()]})


class IndicatorDetailView(PublicAPIView):
    openapi_tag = "indicators"

    @extend_schema(summary="One indicator's definition (no login)", responses=IndicatorDefinitionSerializer)
    def get(self, request, code: str):
        return Response(indicator_or_404(code).as_dict())


class ValuesQuerySerializer(ZonedCellsMixin, DataQuerySerializer):
    """The values endpoint's query, declared once: the code and the OpenAPI document read it here."""

    dataset = serializers.IntegerField(min_value=1, max_value=2**62, help_text="The dataset's id.")
    area = serializers.ListField(
        child=ids(), required=False, max_length=500, help_text="Only these areas (repeat); default: all the dataset's."
    )
    sensor = serializers.ListField(
        child=ids(), required=False, max_length=500, help_text="Values per sensor, for these sensors (repeat)."
    )
    vars()["from"] = serializers.DateTimeField(
        required=False, help_text="Start of the first cell (default: 24 hours before the end; 7 days for 1d)."
    )
    to = serializers.DateTimeField(
        required=False,
        help_text="End of the last cell, exclusive (default: the end of the dataset's data; for a forecast, the "
        "horizon ahead of now).",
    )
    bucket = serializers.ChoiceField(
        choices=list(values.BUCKET_MINUTES), default="1h", help_text="15m, 1h or 1d on the clock of `tz`."
    )
    tz = serializers.CharField(
        required=False,
        default=DEFAULT_ZONE,
        max_length=64,
        help_text=f"IANA time zone of the cells' hours and days (default {DEFAULT_ZONE}).",
    )
    events = serializers.IntegerField(
        min_value=1,
        max_value=2**62,
        required=False,
        help_text="forecast: an event-calendar dataset whose expected visitors add to the profile.",
    )

    def validate(self, attrs):
        if not isinstance(attrs.get("tz"), ZoneInfo):  # the default is not validated
            attrs["tz"] = ZoneInfo(DEFAULT_ZONE)
        zone = attrs["tz"]
        self.require_cell_edges(
            attrs, values.BUCKET_MINUTES[attrs["bucket"]], zone, f"{attrs['bucket']} cell", f"in {zone.key}"
        )
        if attrs.get("area") and attrs.get("sensor"):
            raise serializers.ValidationError({"sensor": "Name areas or sensors, not both."})
        return super().validate(attrs)


class IndicatorCellSerializer(serializers.Serializer):
    """One cell (documentation of the response; rows are built by datasets.indicators.values)."""

    start = serializers.DateTimeField(help_text="Start of the cell, with the offset of `tz`.")
    end = serializers.DateTimeField()
    area = serializers.IntegerField(required=False)
    sensor = serializers.IntegerField(required=False)
    value = serializers.FloatField(allow_null=True, help_text="In the indicator's unit; null when suppressed or empty.")
    level = serializers.CharField(allow_null=True, help_text="For level indicators: A-F, green-red, quieter-...")
    observations = serializers.IntegerField(help_text="Records the cell is built from.")
    contributions = serializers.IntegerField(allow_null=True, help_text="Persons the cell is built from (vs k).")
    completeness = serializers.FloatField(allow_null=True)
    flags = serializers.ListField(
        child=serializers.CharField(),
        help_text="suppressed, noisy, incomplete, no_data, drift, over_limit, unstable, no_baseline, no_surface, "
        "no_width",
    )
    details = serializers.DictField(help_text="The indicator's parts (e.g. in and out, baseline, table).")


class IndicatorValuesSerializer(serializers.Serializer):
    indicator = serializers.CharField()
    version = serializers.CharField()
    dataset = serializers.IntegerField()
    bucket = serializers.CharField()
    tz = serializers.CharField()
    unit = serializers.CharField()
    parameters = serializers.DictField()
    privacy = serializers.DictField(help_text="k, cells suppressed, and the noise and budget when noise applies.")
    error = serializers.ListField(
        child=serializers.DictField(), required=False, help_text="forecast: MAE and MAPE on the past weeks."
    )
    results = IndicatorCellSerializer(many=True)
    vars()["from"] = serializers.DateTimeField()
    to = serializers.DateTimeField()


class IndicatorGeoJSONRenderer(FastJSONRenderer):
    """Area values as a FeatureCollection: one Feature per area (its polygon), its cells in `properties.cells`."""

    media_type = "application/geo+json"
    format = "geojson"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if data is None or (response is not None and response.status_code >= 400) or "results" not in data:
            return super().render(data, accepted_media_type, renderer_context)
        areas = (renderer_context or {}).get("view").geo_areas
        features, by_area = [], {}
        for cell in data["results"]:
            by_area.setdefault(cell.get("area"), []).append(cell)
        for area_id, cells in by_area.items():
            area = areas.get(area_id)
            features.append(
                {
                    "type": "Feature",
                    "id": area_id,
                    "geometry": area.geometry if area else None,
                    "properties": {"area": area_id, "name": area.name if area else None, "cells": cells},
                }
            )
        head = {key: value for key, value in data.items() if key != "results"}
        return super().render({"type": "FeatureCollection", **head, "features": features}, accepted_media_type)


class IndicatorValuesView(PurposeBoundAPIView):
    """An indicator's values per cell, per area or sensor, computed from the rollups, for a purpose granted
    `aggregate` access (or more). Cells built from fewer than k persons are suppressed; under an open grant with
    noise, released numbers get Laplace noise charged to the dataset's privacy budget."""

    openapi_tag = "indicators"
    access_level = "aggregate"
    renderer_classes = [FastJSONRenderer, CSVRenderer, IndicatorGeoJSONRenderer]
    geo_areas: dict = {}

    def guard_target(self, request) -> dict:
        self.indicator = indicator_or_404(self.kwargs["code"])
        self.query = query_parameters(request, ValuesQuerySerializer)
        self.scope = "sensor" if self.query.get("sensor") else "area"
        ids = [self.query["dataset"]]
        if self.query.get("events") and self.indicator.code == "forecast":
            ids.append(self.query["events"])
        return {
            "dataset_ids": ids,
            "params": {"bucket_minutes": values.BUCKET_MINUTES[self.query["bucket"]], "by": self.scope},
        }

    @extend_schema(
        summary="An indicator's values per 15 minutes, hour or day (in a time zone), per area or sensor, for a "
        "declared purpose (JSON, CSV, or GeoJSON for areas)",
        parameters=[
            ValuesQuerySerializer,
            OpenApiParameter("format", str, enum=["json", "csv", "geojson"], description="Instead of Accept."),
        ],
        responses=IndicatorValuesSerializer,
    )
    def get(self, request, code: str):
        query, indicator = self.query, self.indicator
        dataset = Dataset.objects.select_related("schema_version__schema").get(pk=query["dataset"])
        bucket, zone, now = query["bucket"], query["tz"], timezone.now()
        try:
            values.check_applicable(indicator, dataset.schema_version, self.scope)
        except values.NotApplicable as refused:
            raise serializers.ValidationError({refused.pointer.lstrip("/"): refused.detail}) from None
        if finer := selectors.bucket_finer_than_data(dataset, values.BUCKET_MINUTES[bucket]):
            raise serializers.ValidationError({"bucket": finer})
        if isinstance(request.accepted_renderer, IndicatorGeoJSONRenderer) and self.scope != "area":
            raise serializers.ValidationError({"format": "GeoJSON is given for area values: name areas, not sensors."})
        areas, ids = self._entities(dataset)
        forecast = indicator.code == "forecast"
        horizon = indicator.parameter("horizon_hours").default if forecast else None
        start, end = values.default_range(dataset, bucket, zone, ahead_hours=horizon, now=now)
        if "to" in query and "from" not in query:  # the same span before the given end
            end, start = (
                query["to"],
                selectors.bucket_start(query["to"] - (end - start), values.BUCKET_MINUTES[bucket], zone),
            )
        start, end = query.get("from", start), query.get("to", end)
        given = "to" if "to" in query else "from"
        if end <= start:
            raise serializers.ValidationError({given: "Must be after `from` (the default end is the end of the data)."})
        longest = values.MAX_RANGE_DAYS[bucket]
        if end - start > timedelta(days=longest):
            raise serializers.ValidationError(
                {given: f"At most {longest} days of {bucket} cells: take a larger bucket or less time."}
            )
        if forecast and end > now + timedelta(hours=horizon or 0) + timedelta(days=1):
            raise serializers.ValidationError({"to": f"A forecast reaches at most {horizon} hours ahead of now."})
        edges = values.cell_edges(start, end, bucket, zone)
        if (len(edges) - 1) * max(len(ids), 1) > MAX_CELLS:
            raise serializers.ValidationError(
                {"to": f"More than {MAX_CELLS} cells: narrow the range, take fewer areas, or a larger bucket."}
            )
        events = {}
        if forecast and query.get("events"):
            events = self._events(query["events"], start, end)
        computed = values.indicator_values(
            decision=self.decision,
            request=values.Request(
                indicator=indicator,
                dataset=dataset,
                scope=self.scope,
                ids=ids,
                start=start,
                end=end,
                edges=edges,
                bucket=bucket,
                zone=zone,
                now=now,
                areas=areas,
                events=events,
            ),
        )
        self.geo_areas = areas
        self.guard_state.served(rows=len(computed.rows), cells=len(computed.rows), cells_suppressed=computed.suppressed)
        body = {
            "indicator": indicator.code,
            "version": indicator.version,
            "dataset": dataset.pk,
            "bucket": bucket,
            "tz": zone.key,
            "from": start.astimezone(zone),
            "to": end.astimezone(zone),
            "unit": indicator.unit,
            "parameters": computed.parameters,
            "privacy": {"k": self.decision.conditions.k, "suppressed": computed.suppressed, "noise": computed.noise},
        }
        if computed.error is not None:
            body["error"] = computed.error
        body["results"] = computed.rows
        return Response(body)

    def _entities(self, dataset: Dataset) -> tuple[dict, list[int]]:
        if self.scope == "sensor":
            known = values.dataset_sensors(self.decision, dataset)
            wanted = sorted(set(self.query["sensor"]))
            unknown = [key for key in wanted if key not in known]
            if unknown:
                raise serializers.ValidationError(
                    {"sensor": f"Not a sensor of dataset {dataset.pk} whose values you may see: {unknown[0]}."}
                )
            return {}, wanted
        known = values.dataset_areas(
            dataset, with_geometry=isinstance(self.request.accepted_renderer, IndicatorGeoJSONRenderer)
        )
        wanted = sorted(set(self.query.get("area") or known))
        unknown = [key for key in wanted if key not in known]
        if unknown:
            raise serializers.ValidationError(
                {
                    "area": f"Area {unknown[0]} has no values in dataset {dataset.pk}: its areas are "
                    f"{', '.join(map(str, known)) or 'none'}."
                }
            )
        if not wanted:
            raise serializers.ValidationError(
                {"area": f"Dataset {dataset.pk} has no areas: ask per sensor (`sensor=`)."}
            )
        return {key: known[key] for key in wanted}, wanted

    def _events(self, dataset_id: int, start, end) -> dict:
        calendar = Dataset.objects.select_related("schema_version__schema").get(pk=dataset_id)
        if calendar.schema_version.schema.code != "event-calendar":
            raise serializers.ValidationError({"events": f"Dataset {dataset_id} is no event calendar."})
        return values.calendar_events(decision=self.decision, dataset=calendar, start=start, end=end)
