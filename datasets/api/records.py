"""The first purpose-bound endpoint: a dataset's records, read for a declared purpose at `records` level."""

import base64
import binascii
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from api.moments import in_utc
from api.params import query_parameters
from api.renderers import CSVRenderer, NDJSONRenderer
from api.views import PurposeBoundAPIView
from datasets import selectors
from datasets.models import Dataset

MAX_PAGE_SIZE = 10_000
CURSOR_NOT_OURS = "Not a cursor of this endpoint: take `next` from the previous page."


class DataQuerySerializer(serializers.Serializer):
    """What every data query names: one dataset and, optionally, a time range."""

    dataset = serializers.IntegerField(min_value=1, max_value=2**62, help_text="The dataset's id.")
    vars()["from"] = serializers.DateTimeField(required=False, help_text="From this moment on (inclusive).")
    to = serializers.DateTimeField(required=False, help_text="Before this moment (exclusive).")

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["to"] <= attrs["from"]:
            raise serializers.ValidationError({"to": "Must be after `from`."})
        return attrs


# The years a moment may have where cells lie on a time zone's clock: year 1 or 9999 cannot move to every zone.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


class ZonedCellsMixin:
    """For queries whose cells lie on the clock of `tz`: the zone, and `from` and `to` on the edges of cells."""

    def validate_tz(self, value):
        if value not in selectors.time_zones():
            raise serializers.ValidationError("Not an IANA time zone name, e.g. UTC or Europe/Amsterdam.")
        return ZoneInfo(value)

    @staticmethod
    def require_cell_edges(attrs: dict, minutes: int, zone: ZoneInfo, cell: str, where: str) -> None:
        """A range that cuts a cell would make one finer than the bucket asked for: 422 on `from` or `to`."""
        for name in ("from", "to"):
            moment = attrs.get(name)
            if moment is None:
                continue
            if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
                raise serializers.ValidationError({name: f"Must lie between {EARLIEST_YEAR} and {LATEST_YEAR}."})
            if not selectors.on_bucket_edge(moment, minutes, zone):
                example = selectors.bucket_start(moment, minutes, zone).astimezone(zone).isoformat(timespec="minutes")
                raise serializers.ValidationError({name: f"Must start a {cell} {where}, such as {example}."})


class RecordQuerySerializer(DataQuerySerializer):
    """The records endpoint's query, declared once: the code and the OpenAPI document read it here."""

    sensor = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62),
        required=False,
        max_length=500,
        help_text="Only these sensors (repeat the parameter).",
    )
    fields = serializers.CharField(
        required=False, max_length=200, help_text="Comma-separated measures wanted (default: all granted)."
    )
    cursor = serializers.CharField(required=False, max_length=500, help_text="From the previous page's `next`.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=1000)

    def validate_fields(self, value):
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - set(selectors.RECORD_MEASURE_FIELDS))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown fields {', '.join(unknown)}; choose from {', '.join(selectors.RECORD_MEASURE_FIELDS)}."
            )
        return names

    def validate_cursor(self, value):
        try:
            key, moment = orjson.loads(base64.urlsafe_b64decode(value.encode() + b"=" * (-len(value) % 4)))
            at = in_utc(parse_datetime(moment))
        except (ValueError, TypeError, AttributeError, binascii.Error, orjson.JSONDecodeError):
            at, key = None, None
        # The position of the previous page's last row (datasets.selectors.records_page): a record's id, or a
        # sensor's when the query names sensors, and its observed_from. Opaque to clients.
        if at is None or not isinstance(key, int) or isinstance(key, bool) or not 0 < key < 2**62:
            raise serializers.ValidationError(CURSOR_NOT_OURS)
        return (key, at)


def encode_cursor(after: tuple) -> str:
    key, moment = after
    raw = orjson.dumps([key, moment.isoformat() if isinstance(moment, datetime) else moment])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class RecordSerializer(serializers.Serializer):
    """One record as served (documentation of the response; rows are built by the selector)."""

    sensor = serializers.IntegerField(allow_null=True)
    series = serializers.CharField(allow_null=True)
    observed_from = serializers.DateTimeField()
    observed_to = serializers.DateTimeField(allow_null=True)
    count_in = serializers.IntegerField(allow_null=True, required=False)
    count_out = serializers.IntegerField(allow_null=True, required=False)
    count = serializers.IntegerField(allow_null=True, required=False)
    gauge = serializers.FloatField(allow_null=True, required=False)
    data = serializers.DictField(allow_null=True, required=False)
    suppressed = serializers.ListField(
        child=serializers.CharField(), help_text="Counts withheld because they are below the grant's k."
    )


class RecordPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    results = RecordSerializer(many=True)


class RecordListView(PurposeBoundAPIView):
    """Records of one dataset, for a purpose granted `records` access to it.

    Pages come in `observed_from` order (ties in storage order), or sensor by sensor and then by
    `observed_from` when `sensor` names sensors: the orders the database's indexes hold, so a page reads
    no more rows than it returns, however deep. Follow `next` (or the `Link` header); its cursor is opaque
    and its format may change."""

    openapi_tag = "records"
    access_level = "records"
    renderer_classes = [JSONRenderer, CSVRenderer, NDJSONRenderer]

    def guard_target(self, request) -> dict:
        self.query = query_parameters(request, RecordQuerySerializer)
        return {
            "dataset_ids": [self.query["dataset"]],
            "params": {"bucket_minutes": None, "by": "sensor", "fields": self.query.get("fields")},
        }

    @extend_schema(
        summary="A dataset's records, for a declared purpose (keyset-paged; JSON, CSV or NDJSON)",
        parameters=[RecordQuerySerializer],
        responses=RecordPageSerializer,
    )
    def get(self, request):
        query = self.query
        dataset = Dataset.objects.select_related("schema_version").get(pk=query["dataset"])
        after = query.get("cursor")
        page = selectors.records_page(
            decision=self.decision,
            dataset=dataset,
            sensor_ids=query.get("sensor"),
            start=query.get("from"),
            end=query.get("to"),
            after=after,
            fields=query.get("fields"),
            limit=query["page_size"],
        )
        self.guard_state.served(rows=len(page.rows), cells=page.cells, cells_suppressed=page.cells_suppressed)
        headers, next_url = {}, None
        if page.next_after is not None:
            params = request.query_params.copy()
            params["cursor"] = encode_cursor(page.next_after)
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
            headers["Link"] = f'<{next_url}>; rel="next"'
        return Response({"next": next_url, "results": page.rows}, headers=headers)


class CountQuerySerializer(ZonedCellsMixin, DataQuerySerializer):
    bucket = serializers.ChoiceField(
        choices=list(selectors.BUCKETS),
        default="hour",
        help_text="15m (aligned in UTC; only for data that comes every 15 minutes or more often), or an hour or a "
        "day on the clock of `tz`.",
    )
    by = serializers.ChoiceField(choices=["sensor", "area"], default="sensor", help_text="Per sensor or per area.")
    area = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62),
        required=False,
        max_length=500,
        help_text="Only these areas (repeat the parameter); with `by=area`.",
    )
    tz = serializers.CharField(
        required=False,
        default="UTC",
        max_length=64,
        help_text="IANA time zone whose hours and days the buckets are, e.g. Europe/Amsterdam (default UTC). A day "
        "lasts 23 or 25 hours when the clock changes.",
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if not isinstance(attrs.get("tz"), ZoneInfo):  # the default is not validated
            attrs["tz"] = ZoneInfo("UTC")
        if attrs.get("area") and attrs["by"] != "area":
            raise serializers.ValidationError({"area": "Only with `by=area`."})
        minutes, zone = selectors.BUCKETS[attrs["bucket"]], attrs["tz"]
        where = "(UTC)" if minutes == 15 else f"in {zone.key}"
        self.require_cell_edges(attrs, minutes, zone, attrs["bucket"], where)
        return attrs


class CountCellSerializer(serializers.Serializer):
    bucket = serializers.DateTimeField(help_text="Start of the cell, with the offset of `tz`.")
    sensor = serializers.IntegerField(required=False)
    area = serializers.IntegerField(required=False)
    records = serializers.IntegerField()
    sensors = serializers.IntegerField(help_text="Sensors in the cell: 1, or for an area the most in one 15 minutes.")
    covered_seconds = serializers.IntegerField(
        allow_null=True, help_text="Seconds the cell's records cover (their intervals summed); null for instants."
    )
    expected_records = serializers.FloatField(
        allow_null=True, help_text="Records the cell's sensors send when they miss none (schema period)."
    )
    completeness = serializers.FloatField(
        allow_null=True,
        help_text="covered_seconds / (cell length x sensors), or records / expected_records for instants: below 1, "
        "part of the cell has no data.",
    )
    count_in = serializers.IntegerField(allow_null=True, help_text="Sum of an additive count (in).")
    count_out = serializers.IntegerField(allow_null=True, help_text="Sum of an additive count (out).")
    count = serializers.IntegerField(allow_null=True, help_text="Sum of an additive count; null if a gauge.")
    gauge_mean = serializers.FloatField(
        allow_null=True, help_text="Mean of the schema's gauge; for a sound level in dB, the energy mean."
    )
    gauge_min = serializers.FloatField(allow_null=True)
    gauge_max = serializers.FloatField(allow_null=True)
    suppressed = serializers.ListField(child=serializers.CharField(), help_text="Cells below k, withheld.")


class CountPageSerializer(serializers.Serializer):
    results = CountCellSerializer(many=True)


class CountListView(PurposeBoundAPIView):
    """Counts and gauges per 15 minutes, hour or day and per sensor or area, from the rollups, for a purpose
    granted `aggregate` access (or more)."""

    openapi_tag = "records"
    access_level = "aggregate"
    renderer_classes = [JSONRenderer, CSVRenderer, NDJSONRenderer]

    def guard_target(self, request) -> dict:
        self.query = query_parameters(request, CountQuerySerializer)
        return {
            "dataset_ids": [self.query["dataset"]],
            "params": {"bucket_minutes": selectors.BUCKETS[self.query["bucket"]], "by": self.query["by"]},
        }

    @extend_schema(
        summary="Counts per 15 minutes, hour or day (in a time zone), per sensor or area, for a declared purpose "
        "(small cells suppressed)",
        parameters=[CountQuerySerializer],
        responses=CountPageSerializer,
    )
    def get(self, request):
        query = self.query
        dataset = Dataset.objects.select_related("schema_version").get(pk=query["dataset"])
        if finer := selectors.bucket_finer_than_data(dataset, selectors.BUCKETS[query["bucket"]]):
            raise serializers.ValidationError({"bucket": finer})
        cells = selectors.counts_aggregate(
            decision=self.decision,
            dataset=dataset,
            bucket=query["bucket"],
            by=query["by"],
            start=query.get("from"),
            end=query.get("to"),
            zone=query["tz"],
            area_ids=query.get("area"),
        )
        if cells.truncated:
            raise serializers.ValidationError(
                {"from": f"More than {len(cells.rows)} cells: narrow the range with `from` and `to`."}
            )
        self.guard_state.served(rows=len(cells.rows), cells=cells.cells, cells_suppressed=cells.cells_suppressed)
        return Response({"results": cells.rows})
