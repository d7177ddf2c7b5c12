"""Sensor types, areas and sensors: what measures crowds, where, for whom, and how privately."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation


class PrivacyRisk(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class SensorType(models.Model):
    """A kind of sensor, explained for citizens in English and Dutch (shipped as a data migration)."""

    code = models.SlugField(max_length=40, unique=True)
    name_en = models.CharField(max_length=80)
    name_nl = models.CharField(max_length=80)
    explanation_en = models.TextField(help_text="What it does, for a citizen.")
    explanation_nl = models.TextField(help_text="Wat het doet, voor een inwoner.")
    privacy_risk = models.CharField(max_length=10, choices=PrivacyRisk.choices)
    privacy_risk_en = models.TextField(help_text="Its typical privacy risk, in plain words.")
    privacy_risk_nl = models.TextField(help_text="Het gebruikelijke privacyrisico, in gewone woorden.")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(privacy_risk__in=PrivacyRisk.values), name="sensortype_risk_valid")
        ]

    def __str__(self) -> str:
        return self.name_en


class AreaType(models.TextChoices):
    WALKWAY = "walkway", _("Walkway")
    STAIRS = "stairs", _("Stairs")
    QUEUE = "queue", _("Queue")
    SQUARE = "square", _("Square")
    VENUE = "venue", _("Venue")


class Area(models.Model):
    """A bounded place where crowds are measured, with its usable surface and local thresholds."""

    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="areas")
    name = models.CharField(max_length=200)
    area_type = models.CharField(max_length=10, choices=AreaType.choices)
    geometry = models.JSONField(help_text="GeoJSON Polygon in WGS84 (longitude, latitude).")
    surface_m2_computed = models.FloatField(help_text="Geodesic surface of the polygon, m².")
    surface_m2_override = models.FloatField(null=True, blank=True, help_text="Usable surface if not all of it.")
    effective_width_m = models.FloatField(null=True, blank=True, help_text="For lines and gates, metres.")
    capacity = models.PositiveIntegerField(null=True, blank=True, validators=[MaxValueValidator(10_000_000)])
    thresholds = models.JSONField(
        default=dict,
        blank=True,
        help_text="Local crowding thresholds in persons/m²: default and per weekday/hour.",
    )
    # The polygon's bounding box, kept for fast bbox filters on every database.
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["owner__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="area_unique_name_per_owner"),
            models.CheckConstraint(condition=Q(area_type__in=AreaType.values), name="area_type_valid"),
            models.CheckConstraint(condition=Q(surface_m2_computed__gte=0), name="area_surface_not_negative"),
            models.CheckConstraint(
                condition=Q(surface_m2_override__isnull=True) | Q(surface_m2_override__gt=0),
                name="area_override_positive",
            ),
            models.CheckConstraint(
                condition=Q(effective_width_m__isnull=True) | Q(effective_width_m__gt=0),
                name="area_width_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def surface_m2(self) -> float:
        return self.surface_m2_override or self.surface_m2_computed


class SensorStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    REMOVED = "removed", _("Removed")


class IdentifiersKept(models.TextChoices):
    NONE = "none", _("None")
    ROTATING = "rotating", _("Rotating (changed regularly)")
    PERSISTENT = "persistent", _("Persistent")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    RESTRICTED = "restricted", _("Restricted")


class Measure(models.TextChoices):
    COUNT_AT_LINE = "count_at_line", _("People passing a line (in/out)")
    OCCUPANCY = "occupancy", _("People present in an area")
    FLOW = "flow", _("Crowd flow (speed, headway)")
    DENSITY = "density", _("Crowd density")
    GROUPS = "groups", _("Group size and density")
    DISTANCE = "distance", _("Distance keeping (1.5 m)")
    SOUND_LEVEL = "sound_level", _("Sound levels and anomalies (no audio)")


class Sensor(models.Model):
    """A sensor in the public space: owned by a controller, run by an operator, confirmed before use."""

    controller = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="controlled_sensors")
    operator = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="operated_sensors")
    sensor_type = models.ForeignKey(SensorType, on_delete=models.PROTECT, related_name="sensors")
    reference = models.CharField(max_length=100, help_text="The operator's own reference, used when pushing data.")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    area = models.ForeignKey(Area, null=True, blank=True, on_delete=models.PROTECT, related_name="sensors")
    measures = models.JSONField(default=list, help_text="What it measures: a list of measure codes.")
    personal_data_at_edge = models.BooleanField(help_text="Are personal data (e.g. images) processed on the device?")
    raw_data_retention_hours = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(24 * 366 * 10)], help_text="How long raw data is kept; 0: never."
    )
    identifiers_kept = models.CharField(max_length=12, choices=IdentifiersKept.choices, default=IdentifiersKept.NONE)
    anonymisation_method = models.TextField(blank=True)
    legal_basis = models.CharField(max_length=300, blank=True)
    contact_email = models.EmailField(blank=True)
    # The service life (sensors/service_life.py): installed at a moment (None: unknown, no lower bound),
    # removed at a moment (None: not removed), and the suspensions in between (Suspension).
    installed_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=SensorStatus.choices, default=SensorStatus.PROPOSED)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    restriction_reason = models.CharField(max_length=300, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "visibility"], name="sensor_status_visibility"),
            models.Index(fields=["latitude", "longitude"], name="sensor_location"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["operator", "reference"], name="sensor_unique_reference_per_operator"),
            models.CheckConstraint(condition=Q(status__in=SensorStatus.values), name="sensor_status_valid"),
            models.CheckConstraint(condition=Q(visibility__in=Visibility.values), name="sensor_visibility_valid"),
            models.CheckConstraint(
                condition=Q(identifiers_kept__in=IdentifiersKept.values), name="sensor_identifiers_valid"
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="sensor_location_wgs84",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=False) | Q(area__isnull=False),
                name="sensor_has_location_or_area",
            ),
            models.CheckConstraint(
                condition=Q(visibility="public") | ~Q(restriction_reason=""),
                name="sensor_restriction_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True)
                | Q(installed_at__isnull=True)
                | Q(removed_at__gt=models.F("installed_at")),
                name="sensor_removed_after_installed",
            ),
            # The status says the same as the service life: removed exactly when it has a removal moment.
            models.CheckConstraint(
                condition=Q(status="removed", removed_at__isnull=False) | (~Q(status="removed") & Q(removed_at=None)),
                name="sensor_removed_has_moment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.reference})"


class ActivePeriod(models.Model):
    """A period in which a sensor runs, for sensors that run only during events."""

    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="active_periods")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["sensor", "starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="period_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.sensor}: {self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M}"


class Suspension(models.Model):
    """A time in which a sensor was out of service, from `starts_at` to `ends_at` (None: still suspended)."""

    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="suspensions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sensor", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="suspension_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["sensor"], condition=Q(ends_at__isnull=True), name="suspension_one_open_per_sensor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sensor_id} suspended from {self.starts_at:%Y-%m-%d %H:%M}"


class GateDirection(models.TextChoices):
    """How a sensor's `in` relates to the area it is placed at (docs/guides/municipality.md, Placements)."""

    ENTERS = "enters", _("Its `in` enters the area")
    LEAVES = "leaves", _("Its `in` leaves the area (in and out swap for the area)")
    INSIDE = "inside", _("It measures inside the area (no gate)")


class Placement(models.Model):
    """Where a sensor stood over time: an area, which way its gate counts, from `starts_at` (None: since
    it was installed) until `ends_at` (None: still there). Indicators attribute each record to the area
    of the placement in force at its `observed_from`, so a sensor that moved counts in its old area for
    the old weeks. A sensor's placements do not overlap (checked by sensors.services, the sensor locked);
    `Sensor.area` is the area of its placement in force now."""

    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="placements")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="placements")
    direction = models.CharField(max_length=10, choices=GateDirection.choices, default=GateDirection.ENTERS)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["sensor", "starts_at", "id"]
        indexes = [models.Index(fields=["area", "starts_at"], name="placement_area_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(starts_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="placement_ends_after_start",
            ),
            models.CheckConstraint(condition=Q(direction__in=GateDirection.values), name="placement_direction_valid"),
            models.UniqueConstraint(
                fields=["sensor"], condition=Q(ends_at__isnull=True), name="placement_one_open_per_sensor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sensor_id} at area {self.area_id} from {self.starts_at or '…'} until {self.ends_at or '…'}"


class SensorEvent(models.Model):
    """One entry in a sensor's history: who did what, when, and which fields changed (append-only)."""

    class Action(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        UPDATED = "updated", _("Updated")
        CONFIRMED = "confirmed", _("Confirmed")
        SUSPENDED = "suspended", _("Suspended")
        RESUMED = "resumed", _("Resumed")
        REMOVED = "removed", _("Removed")
        IMPORTED = "imported", _("Imported")

    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=12, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_key_prefix = models.CharField(max_length=8, blank=True)
    actor_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changes = models.JSONField(default=dict, help_text="{field: [old, new]}")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["sensor", "at", "id"]

    def __str__(self) -> str:
        return f"{self.sensor_id} {self.action} at {self.at:%Y-%m-%d %H:%M}"
