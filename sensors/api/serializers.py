"""Serializers for sensor types, sensors, their history, areas and the public register."""

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Organisation
from accounts.selectors import organisation_list
from api.fields import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from api.moments import in_utc
from api.serializers import WholeValueMixin
from purposes import selectors as purposes_selectors
from sensors import selectors
from sensors.geometry import MAX_POLYGON_POSITIONS
from sensors.models import (
    ActivePeriod,
    Area,
    GateDirection,
    Measure,
    Placement,
    Sensor,
    SensorEvent,
    SensorType,
    Suspension,
)
from sensors.services import FIXED_FIELDS, TransferNotOffered


class SensorTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = SensorType
        fields = [
            "code",
            "name_en",
            "name_nl",
            "explanation_en",
            "explanation_nl",
            "privacy_risk",
            "privacy_risk_en",
            "privacy_risk_nl",
        ]


POINT_SCHEMA = {
    "type": "object",
    "nullable": True,
    "properties": {
        "type": {"type": "string", "enum": ["Point"]},
        "coordinates": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3},
    },
    "required": ["type", "coordinates"],
    "example": {"type": "Point", "coordinates": [4.8952, 52.3702]},
}


@extend_schema_field(POINT_SCHEMA)
class GeoJSONPointField(serializers.Field):
    """A sensor's latitude/longitude as a GeoJSON Point: {"type": "Point", "coordinates": [lon, lat]}."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, sensor):
        if sensor.latitude is None or sensor.longitude is None:
            return None
        return {"type": "Point", "coordinates": [sensor.longitude, sensor.latitude]}

    def to_internal_value(self, data):
        if data is None:
            return {"latitude": None, "longitude": None}
        coordinates = data.get("coordinates") if isinstance(data, dict) else None
        if (
            not isinstance(data, dict)
            or data.get("type") != "Point"
            or not isinstance(coordinates, list)
            or len(coordinates) not in (2, 3)
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in coordinates)
        ):
            raise serializers.ValidationError('Must be a GeoJSON Point: {"type": "Point", "coordinates": [lon, lat]}.')
        longitude, latitude = coordinates[:2]
        if not -180 <= longitude <= 180 or not -90 <= latitude <= 90:
            raise serializers.ValidationError(
                f"[{longitude}, {latitude}] is outside WGS84: longitude -180..180, latitude -90..90 (order: lon, lat)."
            )
        return {"latitude": float(latitude), "longitude": float(longitude)}

    def validate_empty_values(self, data):
        # With source="*", null means "no point" (handled in to_internal_value), not "skip".
        if data is None:
            return False, data
        return super().validate_empty_values(data)


class ActivePeriodSerializer(WholeValueMixin, serializers.ModelSerializer):
    """A period in which the sensor runs; a PATCH of `active_periods` replaces them all, so each is whole."""

    class Meta:
        model = ActivePeriod
        fields = ["starts_at", "ends_at", "label"]

    def validate(self, attrs):
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": "Must be after starts_at."})
        return attrs


class MomentOrDateField(serializers.DateTimeField):
    """A moment (ISO 8601 with a UTC offset), or a date alone, read as midnight UTC (the former date fields)."""

    def to_internal_value(self, value):
        if isinstance(value, str) and len(value.strip()) == 10:
            try:
                day = date.fromisoformat(value.strip())
            except ValueError:
                pass
            else:
                return datetime.combine(day, time(0), tzinfo=UTC)
        moment = super().to_internal_value(value)
        try:
            return in_utc(moment)
        except ValueError as error:
            raise serializers.ValidationError(f"Not a moment: {error}.") from None


class SuspensionSerializer(WholeValueMixin, serializers.ModelSerializer):
    """A time out of service, from `starts_at` to `ends_at` (null: still suspended)."""

    starts_at = MomentOrDateField()
    ends_at = MomentOrDateField(required=False, allow_null=True, default=None)

    class Meta:
        model = Suspension
        fields = ["starts_at", "ends_at"]


class ServiceLifeFieldsMixin(serializers.Serializer):
    """A sensor's service life, shown with it (sensors/service_life.py)."""

    installed_at = MomentOrDateField(
        required=False,
        allow_null=True,
        help_text="When it was installed (a moment, or a date read as midnight UTC); null: unknown, so it bounds "
        "nothing. Its data is accepted from then on, while it is in service.",
    )
    removed_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When it was removed (POST .../remove/); data from then on is refused.",
    )
    suspensions = SuspensionSerializer(many=True, read_only=True, help_text="Times it was out of service.")
    active_until = serializers.SerializerMethodField(
        help_text="Deprecated: the last day it was in service (the day before `removed_at`), or null."
    )

    def get_active_until(self, sensor) -> date | None:
        return None if sensor.removed_at is None else (sensor.removed_at - timedelta(microseconds=1)).date()


class SensorSerializer(ServiceLifeFieldsMixin, serializers.ModelSerializer):
    sensor_type = ScopedSlugRelatedField(
        slug_field="code", model=SensorType, public="the sensor taxonomy is public (/api/v1/sensor-types/)"
    )
    controller = ScopedSlugRelatedField(
        slug_field="slug",
        model=Organisation,
        public="a vendor proposes a sensor to the city responsible for it, which confirms it; the operator "
        "must be the caller's own organisation",
        help_text="The organisation responsible for the sensor (not a vendor). Fixed once registered.",
    )
    operator = ScopedSlugRelatedField(
        slug_field="slug",
        model=Organisation,
        scope=organisation_list,
        required=False,
        help_text="Your organisation, which runs the sensor (default: your only one). Fixed once registered.",
    )
    location = GeoJSONPointField(
        required=False, help_text='GeoJSON Point, WGS84: {"type": "Point", "coordinates": [lon, lat]}'
    )
    area = ScopedPrimaryKeyRelatedField(
        model=Area,
        scope=selectors.areas_for_sensors,
        required=False,
        allow_null=True,
        help_text="An area of the controller: yours, or one the public register names.",
    )
    measures = serializers.ListField(
        child=serializers.ChoiceField(choices=Measure.choices), allow_empty=True, required=False
    )
    active_periods = ActivePeriodSerializer(many=True, required=False)

    def to_internal_value(self, data):
        if isinstance(data, Mapping) and data.get("active_until") is not None:
            # Once a writable date; silently ignoring it would lose the caller's intent.
            raise serializers.ValidationError(
                {
                    "active_until": "No longer written: record the removal with POST /api/v1/sensors/{id}/remove/ "
                    "and its moment in `at`."
                }
            )
        return super().to_internal_value(data)

    class Meta:
        model = Sensor
        fields = [
            "id",
            "reference",
            "name",
            "description",
            "sensor_type",
            "controller",
            "operator",
            "location",
            "latitude",
            "longitude",
            "area",
            "measures",
            "personal_data_at_edge",
            "raw_data_retention_hours",
            "identifiers_kept",
            "anonymisation_method",
            "legal_basis",
            "contact_email",
            "installed_at",
            "removed_at",
            "suspensions",
            "active_until",
            "active_periods",
            "status",
            "visibility",
            "restriction_reason",
            "confirmed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "latitude",
            "longitude",
            "removed_at",
            "status",
            "confirmed_at",
            "created_at",
            "updated_at",
        ]
        # Uniqueness of (operator, reference) is answered as 409 by the service, not here.
        validators = []


class RecordsOutsideServiceSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Stored records of the sensor outside its service life.")
    first = serializers.DateTimeField(allow_null=True, help_text="The earliest of them (observed_from).")
    last = serializers.DateTimeField(allow_null=True, help_text="The latest of them (observed_from).")


RECORDS_OUTSIDE_SERVICE_HELP = (
    "In the answer to a change by the sensor's controller only: how many stored records of the sensor (in any "
    "dataset) now lie outside its service life, the first and the last. They are kept and still count: "
    "correct the life, or have them corrected (docs/guides/municipality.md). Also in the change's history."
)


class SensorChangeSerializer(SensorSerializer):
    """A sensor as its controller gets it back from a change of its service life."""

    records_outside_service = RecordsOutsideServiceSerializer(read_only=True, help_text=RECORDS_OUTSIDE_SERVICE_HELP)

    class Meta(SensorSerializer.Meta):
        fields = [*SensorSerializer.Meta.fields, "records_outside_service"]


class SensorUpdateSerializer(SensorSerializer):
    """A change: `controller` and `operator` are fixed once registered (moving a sensor to another
    organisation is not offered); the same value is accepted, another is refused (400)."""

    controller = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="Fixed once registered: moving a sensor is not offered."
    )
    operator = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="Fixed once registered: moving a sensor is not offered."
    )
    # Absent from an operator's answer (the attribute is set for the controller only): it would tell the
    # operator about records in the controller's datasets.
    records_outside_service = RecordsOutsideServiceSerializer(read_only=True, help_text=RECORDS_OUTSIDE_SERVICE_HELP)

    class Meta(SensorSerializer.Meta):
        fields = [*SensorSerializer.Meta.fields, "records_outside_service"]

    def to_internal_value(self, data):
        # Compared with the sensor's own, before anything is looked up: naming another organisation (or
        # none) reveals nothing about it, and never moves the sensor.
        if isinstance(data, Mapping) and self.instance is not None:
            for name in FIXED_FIELDS:
                if name in data and data[name] != getattr(self.instance, name).slug:
                    raise TransferNotOffered(name)
        return super().to_internal_value(data)


class SensorTransitionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class SensorServiceEventSerializer(SensorTransitionSerializer):
    at = MomentOrDateField(
        required=False,
        help_text="When it happened (default now): not in the future, not before the sensor's last service event.",
    )


class ServiceLifeSerializer(serializers.Serializer):
    """A sensor's whole service life, as its controller corrects it (PUT replaces it)."""

    installed_at = MomentOrDateField(allow_null=True, help_text="null: unknown (bounds nothing)")
    removed_at = MomentOrDateField(allow_null=True, required=False, default=None, help_text="null: not removed")
    suspensions = SuspensionSerializer(many=True, required=False, default=list)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


DIRECTION_HELP = (
    "Which way the sensor's `in` points for the area: `enters` (its in enters the area), `leaves` (in and out "
    "swap for the area), `inside` (it measures inside the area, no gate). Default: `enters` for a sensor that "
    "counts at a line, else `inside`."
)
# A sensor moves a few times a year; a history longer than this is not a placement history.
MAX_PLACEMENTS = 1000


class PlacementSerializer(WholeValueMixin, serializers.ModelSerializer):
    """Where a sensor stood: an area, which way its gate counts, from `starts_at` until `ends_at` (half-open)."""

    area = ScopedPrimaryKeyRelatedField(
        model=Area,
        scope=selectors.areas_for_sensors,
        help_text="An area of the sensor's controller (its id).",
    )
    area_name = serializers.CharField(source="area.name", read_only=True)
    direction = serializers.ChoiceField(choices=GateDirection.choices, required=False, help_text=DIRECTION_HELP)
    starts_at = MomentOrDateField(
        required=False, allow_null=True, default=None, help_text="From (inclusive); null: since it was installed."
    )
    ends_at = MomentOrDateField(
        required=False, allow_null=True, default=None, help_text="Until (exclusive); null: still there."
    )

    class Meta:
        model = Placement
        fields = ["area", "area_name", "direction", "starts_at", "ends_at"]
        validators = []


class PlacementsSerializer(serializers.Serializer):
    """A sensor's whole placement history, as its controller corrects it (PUT replaces it)."""

    placements = PlacementSerializer(
        many=True,
        max_length=MAX_PLACEMENTS,
        help_text="Every placement, none overlapping; only the last may be open (`ends_at` null).",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class SensorMoveSerializer(serializers.Serializer):
    """A move: the sensor stands in `area` from `at`; its open placement ends there."""

    area = ScopedPrimaryKeyRelatedField(
        model=Area,
        scope=selectors.areas_for_sensors,
        allow_null=True,
        help_text="The area of the sensor's controller it stands in from `at`; null: in no area any more.",
    )
    direction = serializers.ChoiceField(choices=GateDirection.choices, required=False, help_text=DIRECTION_HELP)
    at = MomentOrDateField(
        required=False,
        help_text="When it moved (default now): not in the future, after the sensor's last placement moment.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class SensorInsideSerializer(serializers.ModelSerializer):
    """A sensor whose location lies inside an area's polygon, and where it is placed now."""

    location = GeoJSONPointField(read_only=True)
    placed = serializers.ChoiceField(
        choices=["here", "elsewhere", "nowhere"],
        read_only=True,
        help_text="`here`: its placement in force is in this area; `elsewhere`: in another area (`area`); "
        "`nowhere`: in no area.",
    )
    placed_since = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Start of its placement in force (null: since installed, or none)."
    )

    class Meta:
        model = Sensor
        fields = ["id", "reference", "name", "status", "location", "area", "placed", "placed_since"]
        read_only_fields = fields


class PlaceSensorsInsideSerializer(serializers.Serializer):
    """Place sensors proposed from the area's polygon in the area, from `at`."""

    sensors = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=10_000,
        help_text="Ids among those inside the area (GET .../sensors-inside/); default: every one not placed here.",
    )
    direction = serializers.ChoiceField(choices=GateDirection.choices, required=False, help_text=DIRECTION_HELP)
    at = MomentOrDateField(
        required=False,
        help_text="From when they stand there (default now): not in the future, after each one's last placement "
        "moment. A proposed sensor stands there from its installation.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class SensorEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    actor_organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = SensorEvent
        fields = ["action", "at", "actor", "actor_organisation", "changes", "note"]

    def get_actor(self, event) -> str:
        if event.actor_key_prefix:
            return f"api-key:{event.actor_key_prefix}"
        if event.actor_user_id:
            return event.actor_user.get_username()
        return "system"


class ImportNoteSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    reference = serializers.CharField()
    detail = serializers.CharField()


class ImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    notes = ImportNoteSerializer(many=True, help_text="What the import assumed, by line (e.g. a removal date).")


class ThresholdLevelsSerializer(WholeValueMixin, serializers.Serializer):
    """Crowding levels in persons per m²; each higher than the one before."""

    busy = serializers.FloatField(min_value=0.01)
    crowded = serializers.FloatField(min_value=0.01)
    critical = serializers.FloatField(min_value=0.01, required=False)

    def validate(self, attrs):
        levels = [attrs["busy"], attrs["crowded"], *([attrs["critical"]] if "critical" in attrs else [])]
        if levels != sorted(levels) or len(set(levels)) != len(levels):
            raise serializers.ValidationError("Levels must rise: busy < crowded < critical.")
        return attrs


class WeeklyThresholdSerializer(ThresholdLevelsSerializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="0 = Monday")
    hour = serializers.IntegerField(min_value=0, max_value=23, required=False, help_text="omit for the whole day")


class BusynessThresholdsSerializer(WholeValueMixin, serializers.Serializer):
    """The area's own busyness levels: ratios of a bucket's count to its baseline (the busyness indicator)."""

    quieter = serializers.FloatField(min_value=0, max_value=100, help_text="Below this ratio: quieter than usual.")
    busier = serializers.FloatField(min_value=0, max_value=100, help_text="From this ratio: busier than usual.")
    much_busier = serializers.FloatField(min_value=0, max_value=100, help_text="From this ratio: much busier.")

    def validate(self, attrs):
        if not attrs["quieter"] < attrs["busier"] < attrs["much_busier"]:
            raise serializers.ValidationError("Ratios must rise: quieter < busier < much_busier.")
        return attrs


class ThresholdsSerializer(serializers.Serializer):
    default = ThresholdLevelsSerializer(required=False)
    weekly = WeeklyThresholdSerializer(many=True, required=False)
    busyness = BusynessThresholdsSerializer(required=False)


class AreaSerializer(serializers.ModelSerializer):
    owner = ScopedSlugRelatedField(
        slug_field="slug",
        model=Organisation,
        scope=organisation_list,
        required=False,
        help_text="Your municipality (default: your only one).",
    )
    surface_m2 = serializers.FloatField(read_only=True, help_text="The override if set, else the computed surface.")
    thresholds = ThresholdsSerializer(required=False)
    geometry = serializers.JSONField(
        help_text=f"GeoJSON Polygon, WGS84, closed rings, not self-intersecting, at most {MAX_POLYGON_POSITIONS} "
        "positions, not touching a pole, spanning less than 180 degrees of longitude."
    )
    bbox = serializers.SerializerMethodField(
        help_text="The polygon's bounding box: [min_lon, min_lat, max_lon, max_lat]."
    )

    class Meta:
        model = Area
        fields = [
            "id",
            "owner",
            "name",
            "area_type",
            "geometry",
            "bbox",
            "surface_m2",
            "surface_m2_computed",
            "surface_m2_override",
            "effective_width_m",
            "capacity",
            "thresholds",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "surface_m2_computed", "created_at", "updated_at"]
        validators = []

    def get_bbox(self, area) -> list[float]:
        return [area.min_lon, area.min_lat, area.max_lon, area.max_lat]


class AreaSummarySerializer(AreaSerializer):
    """An area in a list: everything but its polygon (`?geometry=true` adds it; GeoJSON always has it)."""

    class Meta(AreaSerializer.Meta):
        fields = [name for name in AreaSerializer.Meta.fields if name != "geometry"]


class AreaListQuerySerializer(serializers.Serializer):
    geometry = serializers.BooleanField(
        default=False, help_text="Include each area's polygon in a JSON list (GeoJSON lists always include it)."
    )


class NamedOrganisationSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class NamedAreaSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PublicSensorListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        # The purposes of the whole page in a few queries, not a few per sensor.
        sensors = list(data.all() if hasattr(data, "all") else data)
        self.child.context["sensor_purposes"] = purposes_selectors.sensor_purposes(sensor_ids=[s.pk for s in sensors])
        return super().to_representation(sensors)


class PublicSensorSerializer(ServiceLifeFieldsMixin, serializers.ModelSerializer):
    """What the public register says of a sensor: what, where, who, why, personal data, retention."""

    sensor_type = SensorTypeSerializer()
    location = GeoJSONPointField(read_only=True)
    area = NamedAreaSerializer(allow_null=True)
    controller = NamedOrganisationSerializer()
    operator = NamedOrganisationSerializer()
    active_periods = ActivePeriodSerializer(many=True)
    purposes = serializers.SerializerMethodField(
        help_text="The purposes in force its data serves: those of the datasets it feeds, and their grants."
    )

    class Meta:
        model = Sensor
        fields = [
            "id",
            "name",
            "description",
            "sensor_type",
            "location",
            "area",
            "controller",
            "operator",
            "purposes",
            "measures",
            "personal_data_at_edge",
            "raw_data_retention_hours",
            "identifiers_kept",
            "anonymisation_method",
            "legal_basis",
            "contact_email",
            "status",
            "installed_at",
            "removed_at",
            "suspensions",
            "active_until",
            "active_periods",
        ]
        list_serializer_class = PublicSensorListSerializer

    def get_purposes(self, sensor) -> list[dict]:
        known = self.context.get("sensor_purposes")
        if known is None:
            known = purposes_selectors.sensor_purposes(sensor_ids=[sensor.pk])
        return [
            {"code": p.code, "title": p.title, "category": p.category, "holder": p.holder.slug}
            for p in known.get(sensor.pk, [])
        ]


class RestrictedSummarySerializer(serializers.Serializer):
    sensor_type = serializers.CharField()
    sensor_type_name_en = serializers.CharField()
    sensor_type_name_nl = serializers.CharField()
    area = serializers.IntegerField(allow_null=True)
    area_name = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()
