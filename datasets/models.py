"""Standard schemas, datasets described for catalogues, records, their 15-minute rollups, and ingest batches."""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_duration
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from purposes.managers import PurposeBoundManager
from sensors.models import Area, Sensor


class StandardSchema(models.Model):
    """A standard dataset structure (e.g. crowd count at a line); its versions are immutable."""

    code = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


# A planned event (a festival, a market) may last weeks, not years.
MAX_EVENT_LENGTH = timedelta(days=366)
# The largest count one record may carry: far beyond any crowd, and small enough that the sums of a
# million records in one rollup bucket stay inside PostgreSQL's bigint. Every count measure of every
# schema states it as `maximum`, and a database check holds the typed columns to it.
MAX_COUNT = 10**12


class SchemaVersion(models.Model):
    """One published version of a standard schema: the JSON Schema of a record plus its metadata."""

    class TimeSemantics(models.TextChoices):
        INTERVAL = "interval", _("Interval (observed_from, observed_to)")
        INSTANT = "instant", _("Instant (observed_at)")

    class Subject(models.TextChoices):
        SENSOR = "sensor", _("Observations of a sensor")
        EVENT = "event", _("Planned events")

    schema = models.ForeignKey(StandardSchema, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=20, help_text="Semantic version, e.g. 1.0.0.")
    title = models.CharField(max_length=200)
    description = models.TextField()
    subject = models.CharField(max_length=10, choices=Subject.choices)
    time_semantics = models.CharField(max_length=10, choices=TimeSemantics.choices)
    measures = models.JSONField(help_text="[{name, unit, aggregation, column, description}]")
    derived_columns = models.JSONField(default=dict, help_text="{column: [measures summed]}")
    quality = models.JSONField(help_text="accuracy, completeness, latency_seconds, update_frequency")
    privacy_class = models.CharField(max_length=20)
    record_schema = models.JSONField(help_text="JSON Schema (draft 2020-12) of one record.")
    examples = models.JSONField()
    mappings = models.JSONField(help_text="To FIWARE CrowdFlowObserved and OGC SensorThings, where one exists.")
    content_sha256 = models.CharField(max_length=64, help_text="Hash of the published document: it never changes.")
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["schema__code", "published_at"]
        constraints = [
            models.UniqueConstraint(fields=["schema", "version"], name="schemaversion_unique"),
            models.CheckConstraint(condition=Q(time_semantics__in=["interval", "instant"]), name="schemaversion_time"),
            models.CheckConstraint(condition=Q(subject__in=["sensor", "event"]), name="schemaversion_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.schema.code} {self.version}"

    @property
    def code(self) -> str:
        return self.schema.code

    @property
    def period(self) -> timedelta | None:
        """How often a sensor reports (`quality.update_frequency`, an ISO 8601 duration such as PT5M)."""
        period = parse_duration(str((self.quality or {}).get("update_frequency") or ""))
        return period if period and period > timedelta(0) else None

    @property
    def max_interval(self) -> timedelta | None:
        """The longest interval one record may cover (docs/schemas.md, "Bounds"): its period for sensor data,
        so that a record lies in one period and the hourly rollup holds what happened in that hour;
        MAX_EVENT_LENGTH for planned events. None for instant schemas."""
        if self.time_semantics != self.TimeSemantics.INTERVAL:
            return None
        if self.subject == self.Subject.EVENT:
            return MAX_EVENT_LENGTH
        return self.period

    @property
    def expected_records_per_hour(self) -> float | None:
        """Records one sensor sends per hour when it misses none: what tells "no data" from "zero" in the
        hourly rollup (completeness = records / expected). None for planned events."""
        if self.subject != self.Subject.SENSOR or self.period is None:
            return None
        return timedelta(hours=1) / self.period


class AccessClassification(models.TextChoices):
    OPEN_AGGREGATE = "open_aggregate", _("Open aggregate")
    SHARED_UNDER_GRANT = "shared_under_grant", _("Shared under grant")
    RESTRICTED = "restricted", _("Restricted")


class DatasetStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class Theme(models.TextChoices):
    """The EU data themes (DCAT-AP's dcat:theme vocabulary) a dataset is filed under."""

    AGRI = "AGRI", _("Agriculture, fisheries, forestry and food")
    ECON = "ECON", _("Economy and finance")
    EDUC = "EDUC", _("Education, culture and sport")
    ENER = "ENER", _("Energy")
    ENVI = "ENVI", _("Environment")
    GOVE = "GOVE", _("Government and public sector")
    HEAL = "HEAL", _("Health")
    INTR = "INTR", _("International issues")
    JUST = "JUST", _("Justice, legal system and public safety")
    REGI = "REGI", _("Regions and cities")
    SOCI = "SOCI", _("Population and society")
    TECH = "TECH", _("Science and technology")
    TRAN = "TRAN", _("Transport")


class UpdateFrequency(models.TextChoices):
    """The EU frequency vocabulary (dct:accrualPeriodicity): how often a dataset gets new data."""

    CONT = "CONT", _("continuously")
    UPDATE_CONT = "UPDATE_CONT", _("continuously updated")
    MIN_1 = "1MIN", _("every minute")
    MIN_5 = "5MIN", _("every five minutes")
    MIN_10 = "10MIN", _("every ten minutes")
    MIN_15 = "15MIN", _("every fifteen minutes")
    MIN_30 = "30MIN", _("every thirty minutes")
    HOURLY = "HOURLY", _("hourly")
    DAILY = "DAILY", _("daily")
    WEEKLY = "WEEKLY", _("weekly")
    MONTHLY = "MONTHLY", _("monthly")
    ANNUAL = "ANNUAL", _("annually")
    IRREG = "IRREG", _("irregularly")
    UNKNOWN = "UNKNOWN", _("unknown")


class Dataset(models.Model):
    """Data of one standard schema version from some sensors, described in DCAT-AP terms."""

    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="datasets")
    schema_version = models.ForeignKey(SchemaVersion, on_delete=models.PROTECT, related_name="datasets")
    title = models.CharField(max_length=200)
    description = models.TextField()
    publisher = models.CharField(max_length=200, blank=True, help_text="Defaults to the owner's name.")
    contact_point = models.EmailField()
    licence = models.URLField(default="https://creativecommons.org/licenses/by/4.0/")
    themes = models.JSONField(default=list, blank=True, help_text="EU data themes, e.g. ['TRAN', 'SOCI'].")
    keywords = models.JSONField(default=list, blank=True)
    sensors = models.ManyToManyField(Sensor, blank=True, related_name="datasets")
    areas = models.ManyToManyField(Area, blank=True, related_name="datasets")
    update_frequency = models.CharField(max_length=20, default="HOURLY", help_text="EU frequency code.")
    quality_statement = models.TextField(blank=True)
    retention_days = models.PositiveIntegerField(
        default=365, validators=[MinValueValidator(1), MaxValueValidator(36_500)]
    )
    rollup_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(36_500)],
        help_text="Days the 15-minute rollups are kept (default 3650, never fewer than retention_days).",
    )
    collection_purposes = models.ManyToManyField(
        "purposes.Purpose",
        blank=True,
        related_name="collected_datasets",
        help_text="The purposes the data is collected for: they act as the owner's grants at records level.",
    )
    access = models.CharField(max_length=20, choices=AccessClassification.choices)
    status = models.CharField(max_length=10, choices=DatasetStatus.choices, default=DatasetStatus.DRAFT)
    # Kept with the dataset by ingest and retention (datasets.storage), so that the public catalogue never
    # scans records: the first observation's start and the last one's end.
    coverage_from = models.DateTimeField(null=True, blank=True, editable=False)
    coverage_to = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(access__in=AccessClassification.values), name="dataset_access_valid"),
            models.CheckConstraint(condition=Q(status__in=DatasetStatus.values), name="dataset_status_valid"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def rollup_retention(self) -> timedelta:
        """How long rollups are kept: the dataset's own figure or the default, at least the records' retention."""
        days = self.rollup_retention_days or DEFAULT_ROLLUP_RETENTION_DAYS
        return timedelta(days=max(days, self.retention_days))


class IngestBatch(models.Model):
    """One ingest request: who sent it, when, and what became of its records.

    On PostgreSQL the primary key is (dataset_id, id) (docs/adr/0008, Citus); Django keeps `id`. Change a batch
    by dataset_id and id, not by `save()` (which goes by id alone)."""

    class Status(models.TextChoices):
        STORED = "stored", _("Stored")
        PARTIAL = "partial", _("Stored in part")
        REJECTED = "rejected", _("Rejected")

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="batches")
    organisation = models.ForeignKey(Organisation, null=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key_prefix = models.CharField(max_length=8, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    source_format = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices)
    received = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    rejected_by_reason = models.JSONField(
        default=dict, blank=True, help_text="Records refused per code ({code: n}; docs/errors.md, Ingest limits)."
    )
    idempotency_key = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["dataset", "-received_at"], name="batch_dataset_time")]

    def __str__(self) -> str:
        return f"batch {self.pk} of {self.dataset_id}: {self.status}"


class Record(models.Model):
    """One validated observation, its measures in typed columns for fast aggregation.

    Idempotent on its natural key: (dataset, sensor, observed_from) for sensor data, (dataset, series,
    observed_from) for planned events. Columns follow the schema's measures; the rest sits in `data`.
    Citus-ready: distribute on dataset_id (every unique key includes it).

    On PostgreSQL (docs/adr/0008) the table is partitioned by month of `observed_from` (datasets.partitions)
    and its primary key is (dataset_id, observed_from, id): Django's state keeps `id` as the primary key
    (ids come from one sequence and are unique), so filter by dataset_id (and observed_from) as well
    wherever the key is used: a lookup by id alone visits every partition.
    """

    purpose_bound = True  # served only under the purpose guard (api.checks.is_purpose_bound)

    # No separate indexes on the foreign keys: the keys lead with dataset (and sensor), and every index
    # costs time on the ingest path. No per-row foreign-key constraints either (docs/adr/0008: they were
    # half of the database's work at COMMIT): ingest validates both, Django still cascades a dataset's
    # deletion to its records (one DELETE by dataset_id) and protects sensors that have records, and
    # datasets.integrity lists any record whose dataset or sensor is gone.
    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="records", db_index=False, db_constraint=False
    )
    sensor = models.ForeignKey(
        Sensor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="records",
        db_index=False,
        db_constraint=False,
    )
    series = models.CharField(max_length=100, blank=True, help_text="Key of an event, for records without a sensor.")
    observed_from = models.DateTimeField()
    observed_to = models.DateTimeField(null=True, blank=True)
    count_in = models.BigIntegerField(null=True, blank=True)
    count_out = models.BigIntegerField(null=True, blank=True)
    count = models.BigIntegerField(null=True, blank=True)
    gauge = models.FloatField(null=True, blank=True)
    data = models.JSONField(null=True, blank=True, help_text="Fields of the record not held in a typed column.")
    # Which batch last wrote the record: for tracing only, so no constraint to check on every insert.
    batch = models.ForeignKey(
        IngestBatch,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    objects = PurposeBoundManager()

    class Meta:
        ordering = ["dataset", "sensor", "observed_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "sensor", "observed_from"],
                condition=Q(sensor__isnull=False),
                name="record_natural_key_sensor",
            ),
            models.UniqueConstraint(
                fields=["dataset", "series", "observed_from"],
                condition=Q(sensor__isnull=True),
                name="record_natural_key_series",
            ),
            models.CheckConstraint(condition=Q(sensor__isnull=False) | ~Q(series=""), name="record_has_subject"),
            models.CheckConstraint(
                condition=Q(observed_to__isnull=True) | Q(observed_to__gt=models.F("observed_from")),
                name="record_interval_positive",
            ),
            # The schemas' `maximum` (MAX_COUNT), held by the database too.
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{column}__isnull": True}) | Q(**{f"{column}__range": (0, MAX_COUNT)}),
                    name=f"record_{column}_in_range",
                )
                for column in ("count_in", "count_out", "count")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id}/{self.sensor_id or self.series}@{self.observed_from:%Y-%m-%dT%H:%M}"


# The rollups' base grain: 15 minutes aligned in UTC, so that the hours and days of every time zone (offsets
# of 30 and 45 minutes included) are unions of whole buckets (ADR 0009).
ROLLUP_GRAIN = timedelta(minutes=15)
# Rollups outlive raw records (baselines and forecasts need years of history); at least the records' retention.
DEFAULT_ROLLUP_RETENTION_DAYS = 3650


class RecordRollup(models.Model):
    """A sensor's records per 15-minute bucket, each measure aggregated by its declared kind (ADR 0009).

    Kept current in the ingest transaction and kept after its records are deleted. `count_in`, `count_out`
    and `count` are sums of the schema's additive counts in those record columns (NULL when the column holds
    no additive count, e.g. group-observation's `group_count`, a gauge); `gauge_*` describe the schema's
    gauge (or sound level); `energy_sum` is the sum of 10^(L/10) of a sound level in dB; `data_sums` the
    sums of additive counts kept in `data` (the distance-keeping levels).

    On PostgreSQL the primary key is the natural key, (dataset_id, sensor_id, bucket), under the name
    `rollup_unique_bucket` (docs/adr/0008); Django keeps `id` (not indexed): removing the constraint drops the key."""

    purpose_bound = True  # served only under the purpose guard (api.checks.is_purpose_bound)

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="rollups")
    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="+")
    bucket = models.DateTimeField(help_text="Start of the 15-minute bucket (aligned in UTC).")
    records = models.PositiveIntegerField()
    covered_seconds = models.BigIntegerField(null=True, help_text="Sum of the records' intervals; NULL for instants.")
    count_in = models.BigIntegerField(null=True)
    count_out = models.BigIntegerField(null=True)
    count = models.BigIntegerField(null=True)
    gauge_sum = models.FloatField(null=True, help_text="NULL for a sound level (its mean comes from energy_sum).")
    gauge_min = models.FloatField(null=True)
    gauge_max = models.FloatField(null=True)
    gauge_n = models.PositiveIntegerField(default=0)
    gauge_last = models.FloatField(null=True, help_text="The gauge of the latest record (by observed_from).")
    gauge_last_at = models.DateTimeField(null=True)
    energy_sum = models.FloatField(null=True, help_text="Sum of 10^(L/10) of a sound level L in dB.")
    data_sums = models.JSONField(null=True, help_text="{measure: sum} of additive counts kept in `data`.")

    objects = PurposeBoundManager()

    class Meta:
        ordering = ["dataset", "sensor", "bucket"]
        constraints = [models.UniqueConstraint(fields=["dataset", "sensor", "bucket"], name="rollup_unique_bucket")]
        indexes = [models.Index(fields=["dataset", "bucket"], name="rollup_dataset_bucket")]

    def __str__(self) -> str:
        return f"{self.dataset_id}/{self.sensor_id}@{self.bucket:%Y-%m-%dT%H:%M}"


class AreaRollup(models.Model):
    """A dataset's records per area and 15-minute bucket, each record attributed to the placement of its
    sensor in force at its `observed_from` (sensors.models.Placement), with the gate direction applied:
    `enters` keeps in and out, `leaves` swaps them, `inside` adds gauges and no in/out. `count` and the
    data sums come from every placement. One row per bucket, so an area-week reads 672 rows.

    On PostgreSQL the primary key is (dataset_id, area_id, bucket), `arearollup_unique_bucket` (docs/adr/0008)."""

    purpose_bound = True  # served only under the purpose guard (api.checks.is_purpose_bound)

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="area_rollups")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    bucket = models.DateTimeField(help_text="Start of the 15-minute bucket (aligned in UTC).")
    records = models.PositiveIntegerField()
    sensors = models.PositiveIntegerField(help_text="Sensors with a record in the bucket.")
    covered_seconds = models.BigIntegerField(null=True)
    count_in = models.BigIntegerField(null=True)
    count_out = models.BigIntegerField(null=True)
    count = models.BigIntegerField(null=True)
    gauge_sum = models.FloatField(null=True)
    gauge_min = models.FloatField(null=True)
    gauge_max = models.FloatField(null=True)
    gauge_n = models.PositiveIntegerField(default=0)
    energy_sum = models.FloatField(null=True)
    data_sums = models.JSONField(null=True)

    objects = PurposeBoundManager()

    class Meta:
        ordering = ["dataset", "area", "bucket"]
        constraints = [models.UniqueConstraint(fields=["dataset", "area", "bucket"], name="arearollup_unique_bucket")]
        indexes = [models.Index(fields=["dataset", "bucket"], name="arearollup_dataset_bucket")]

    def __str__(self) -> str:
        return f"{self.dataset_id}/area {self.area_id}@{self.bucket:%Y-%m-%dT%H:%M}"


class IdempotencyKey(models.Model):
    """The first answer to a request sent with an Idempotency-Key, replayed to retries.

    Keys belong to the organisation that sent the batch: another organisation feeding the same dataset with
    the same key is a different request, and is neither replayed this answer nor blocked by it.

    On PostgreSQL the primary key is (dataset_id, organisation_id, key), `idempotency_unique_key_per_sender`
    (docs/adr/0008); Django keeps `id` (not indexed): change a row by that key, not by `save()`.
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_sha256 = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "organisation", "key"], name="idempotency_unique_key_per_sender")
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id}:{self.organisation_id}:{self.key}"


class RetentionRun(models.Model):
    """What `enforce_retention` deleted from a dataset, and up to which moment.

    On PostgreSQL the primary key is (dataset_id, id) (docs/adr/0008); Django keeps `id`."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="retention_runs")
    ran_at = models.DateTimeField(default=timezone.now)
    cutoff = models.DateTimeField(help_text="Records observed before this were deleted.")
    records_deleted = models.PositiveIntegerField()
    rollups_deleted = models.PositiveIntegerField()
    partitions_dropped = models.JSONField(
        default=list,
        blank=True,
        help_text="Monthly partitions of records dropped whole: [{partition, from, to, records}].",
    )

    class Meta:
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"{self.dataset_id}: {self.records_deleted} deleted before {self.cutoff:%Y-%m-%d}"
