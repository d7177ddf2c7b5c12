"""The 15-minute rollups of a dataset, per sensor and per area, each measure aggregated by its declared kind
(ADR 0009).

A schema's measures decide what a rollup keeps (`plan_for`): sums of additive counts in the typed columns
(`count_in`, `count_out`, `count`, and derived columns made of additive counts only), the statistics of its
gauge (sum and n for the mean, min, max, last) or of its sound level (energy sum instead of an arithmetic
mean of decibels), and sums of additive counts kept in `data` (the distance-keeping levels).

PostgreSQL adds a batch's new records to both rollups in the ingest statement (`increment_sql`); a batch
that corrected records, a placement change and `verify_rollups --repair` recompute the touched buckets
from the records (`refresh`): in SQL on PostgreSQL (`recompute_sql`, after locking the rows), in Python on
other databases (`compute`, the reference: tests hold the SQL to it, and `verify` compares with it).
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from api.locks import LockNamespace, advisory_xact_lock
from datasets.models import ROLLUP_GRAIN, AreaRollup, Dataset, Record, RecordRollup, RetentionRun, SchemaVersion
from sensors.models import GateDirection, Placement, Sensor

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
GRAIN_SECONDS = int(ROLLUP_GRAIN.total_seconds())
SUM_COLUMNS = ("count_in", "count_out", "count")
# Aggregation kinds a schema's measure may declare (docs/schemas.md, "Aggregation").
KINDS = {"additive_count", "gauge", "sound_level", "ratio"}


def bucket_of(moment: datetime) -> datetime:
    """Start of the 15-minute bucket (aligned in UTC) that holds `moment`."""
    seconds = (moment - EPOCH) // timedelta(seconds=1)
    return EPOCH + timedelta(seconds=seconds - seconds % GRAIN_SECONDS)


def kept_from(dataset: Dataset, now: datetime | None = None) -> datetime:
    """The first 15-minute bucket whose records are all still kept: now - the dataset's raw retention, rounded
    up to the next bucket. Rollups outlive their records (ADR 0009), so nothing before it is recomputed from
    records (a bucket retention emptied, or only partly, would lose what the deleted records counted), and
    ingest refuses records there (`older_than_retention`: a re-sent record would be counted twice). The
    latest retention run's cutoff holds too, when the retention was raised since."""
    cutoff = (now or timezone.now()) - timedelta(days=dataset.retention_days)
    # A retention raised after a run does not reopen what that run already deleted.
    deleted_before = RetentionRun.objects.filter(dataset_id=dataset.pk).aggregate(last=Max("cutoff"))["last"]
    if deleted_before is not None and deleted_before > cutoff:
        cutoff = deleted_before
    first = bucket_of(cutoff)
    return first if first == cutoff else first + ROLLUP_GRAIN


def _kept(dataset: Dataset, touched: set[tuple[int, datetime]]) -> set[tuple[int, datetime]]:
    """The touched (owner, bucket)s whose records are all still kept."""
    first = kept_from(dataset)
    return {key for key in touched if key[1] >= first}


def touched_by(rows) -> set[tuple[int, datetime]]:
    """The (sensor, bucket)s a batch's rows fall in."""
    return {(row.sensor_id, bucket_of(row.observed_from)) for row in rows if row.sensor_id}


@dataclass(frozen=True)
class Plan:
    """What a schema's rollup keeps, from the kinds of its measures."""

    sums: tuple[str, ...]  # record columns summed (additive counts)
    gauge: str | None  # record column read as the gauge (the first gauge or sound level with a column)
    energy: bool  # the gauge is a sound level in dB: energy sum, no arithmetic mean
    data_sums: tuple[str, ...]  # additive counts kept in `data`
    interval: bool  # records have an interval (covered seconds), or are instants


def plan_for(schema_version: SchemaVersion) -> Plan:
    return _plan(
        tuple((m["name"], m.get("aggregation"), m.get("column")) for m in schema_version.measures),
        tuple(sorted((column, tuple(parts)) for column, parts in (schema_version.derived_columns or {}).items())),
        schema_version.time_semantics == SchemaVersion.TimeSemantics.INTERVAL,
    )


@lru_cache(maxsize=64)
def _plan(measures: tuple, derived: tuple, interval: bool) -> Plan:
    kinds = {name: kind for name, kind, _ in measures}
    sums = [column for _, kind, column in measures if kind == "additive_count" and column in SUM_COLUMNS]
    for column, parts in derived:
        if column in SUM_COLUMNS and parts and all(kinds.get(part) == "additive_count" for part in parts):
            sums.append(column)
    gauge = next(((column, kind) for _, kind, column in measures if kind in ("gauge", "sound_level") and column), None)
    return Plan(
        sums=tuple(sorted(set(sums), key=SUM_COLUMNS.index)),
        gauge=gauge[0] if gauge else None,
        energy=bool(gauge and gauge[1] == "sound_level"),
        data_sums=tuple(name for name, kind, column in measures if kind == "additive_count" and not column),
        interval=interval,
    )


# Computing rollups from records (any database) ----------------------------------------------------------

SENSOR_FIELDS = ("records", "covered_seconds", *SUM_COLUMNS, "gauge_sum", "gauge_min", "gauge_max", "gauge_n",
                 "gauge_last", "gauge_last_at", "energy_sum", "data_sums")  # fmt: skip
AREA_FIELDS = ("records", "sensors", "covered_seconds", *SUM_COLUMNS, "gauge_sum", "gauge_min", "gauge_max",
               "gauge_n", "energy_sum", "data_sums")  # fmt: skip
RECORD_VALUES = ("sensor_id", "observed_from", "observed_to", *SUM_COLUMNS, "gauge", "data")


class _Cell:
    """One bucket's aggregate, fed record by record."""

    def __init__(self, plan: Plan):
        self.plan, self.records, self.covered, self.sensors = plan, 0, 0, set()
        self.sums = dict.fromkeys(plan.sums)
        self.g_sum = self.g_min = self.g_max = self.last = self.last_at = self.energy = None
        self.g_n = 0
        self.data = dict.fromkeys(plan.data_sums)

    def add(self, record: dict, *, swap: bool = False, gates: bool = True, gauges: bool = True) -> None:
        plan = self.plan
        self.records += 1
        self.sensors.add(record["sensor_id"])
        if plan.interval and record["observed_to"] is not None:
            self.covered += int((record["observed_to"] - record["observed_from"]).total_seconds())
        for column in plan.sums:
            if not gates and column != "count":
                continue
            value = record[{"count_in": "count_out", "count_out": "count_in"}.get(column, column) if swap else column]
            if value is not None:
                self.sums[column] = (self.sums[column] or 0) + value
        value = record[plan.gauge] if plan.gauge and gauges else None
        if value is not None:
            value = float(value)
            self.g_n += 1
            self.g_min = value if self.g_min is None else min(self.g_min, value)
            self.g_max = value if self.g_max is None else max(self.g_max, value)
            if plan.energy:
                self.energy = (self.energy or 0.0) + 10 ** (value / 10)
            else:
                self.g_sum = (self.g_sum or 0.0) + value
            if self.last_at is None or record["observed_from"] >= self.last_at:
                self.last, self.last_at = value, record["observed_from"]
        data = record["data"] if isinstance(record["data"], dict) else {}
        for key in plan.data_sums:
            if isinstance(data.get(key), int | float):
                self.data[key] = (self.data[key] or 0) + data[key]

    def values(self, fields: tuple[str, ...]) -> dict:
        every = {
            "records": self.records,
            "sensors": len(self.sensors),
            "covered_seconds": self.covered if self.plan.interval else None,
            **{column: self.sums.get(column) for column in SUM_COLUMNS},
            "gauge_sum": self.g_sum,
            "gauge_min": self.g_min,
            "gauge_max": self.g_max,
            "gauge_n": self.g_n,
            "gauge_last": self.last,
            "gauge_last_at": self.last_at,
            "energy_sum": self.energy,
            "data_sums": self.data or None,
        }
        return {name: every[name] for name in fields}


def placements_of(sensor_ids) -> dict[int, list[Placement]]:
    found = defaultdict(list)
    for placement in Placement.objects.filter(sensor_id__in=set(sensor_ids)):
        found[placement.sensor_id].append(placement)
    return found


def placement_at(placements: list[Placement], moment: datetime) -> Placement | None:
    for placement in placements:
        if (placement.starts_at is None or placement.starts_at <= moment) and (
            placement.ends_at is None or moment < placement.ends_at
        ):
            return placement
    return None


def compute(plan: Plan, records, placements: dict[int, list[Placement]] | None = None):
    """Sensor cells {(sensor, bucket): values} and, given placements, area cells {(area, bucket): values}."""
    sensors, areas = {}, {}
    for record in records:
        bucket = bucket_of(record["observed_from"])
        key = (record["sensor_id"], bucket)
        if key not in sensors:
            sensors[key] = _Cell(plan)
        sensors[key].add(record)
        if placements is None:
            continue
        placement = placement_at(placements.get(record["sensor_id"], []), record["observed_from"])
        if placement is None:
            continue
        key = (placement.area_id, bucket)
        if key not in areas:
            areas[key] = _Cell(plan)
        inside = placement.direction == GateDirection.INSIDE
        areas[key].add(record, swap=placement.direction == GateDirection.LEAVES, gates=not inside, gauges=inside)
    return (
        {key: cell.values(SENSOR_FIELDS) for key, cell in sensors.items()},
        {key: cell.values(AREA_FIELDS) for key, cell in areas.items()},
    )


def _records(dataset_id: int, sensor_ids, first: datetime, last: datetime):
    return (
        Record.objects.unguarded("ingest")
        .filter(dataset_id=dataset_id, sensor_id__in=set(sensor_ids), observed_from__gte=first, observed_from__lt=last)
        .values(*RECORD_VALUES)
        .iterator(chunk_size=5000)
    )


def _span(buckets) -> tuple[datetime, datetime]:
    return min(buckets), max(buckets) + ROLLUP_GRAIN


def in_sql() -> bool:
    """Whether recomputes run in SQL (PostgreSQL); other databases use the Python reference (`compute`)."""
    return connection.vendor == "postgresql"


def areas_of(touched: set[tuple[int, datetime]]) -> set[tuple[int, datetime]]:
    """The (area, bucket)s the records of the touched (sensor, bucket)s may lie in: the areas of the sensor's
    placements in force at the bucket's start or starting inside it."""
    placements = placements_of({sensor_id for sensor_id, _ in touched})
    areas = set()
    for sensor_id, bucket in touched:
        for placement in placements.get(sensor_id, []):
            if placement_at([placement], bucket) or (
                placement.starts_at is not None and bucket <= placement.starts_at < bucket + ROLLUP_GRAIN
            ):
                areas.add((placement.area_id, bucket))
    return areas


def refresh(dataset: Dataset, touched: set[tuple[int, datetime]], *, sql: bool | None = None) -> None:
    """Recompute the rollups of the touched (sensor, bucket)s and of the areas those records lie in, from
    the records (inside the caller's transaction), after locking their rows: sensor rows, then area rows.
    `sql` (default: on PostgreSQL) recomputes in SQL, else in Python (the reference; any database). Buckets
    before `kept_from` (retention deleted some of their records) are left as they are."""
    touched = _kept(dataset, touched)
    if not touched:
        return
    areas = areas_of(touched)
    lock(RecordRollup, "sensor", dataset.pk, touched)
    lock(AreaRollup, "area", dataset.pk, areas)
    sensors_refresh(dataset, touched, locked=True, sql=sql)
    areas_refresh(dataset, areas, locked=True, sql=sql)


def sensors_refresh(
    dataset: Dataset, touched: set[tuple[int, datetime]], *, locked: bool = False, sql: bool | None = None
) -> None:
    """Recompute the touched (sensor, bucket)s from their records; a bucket left without records is deleted.
    Buckets before `kept_from` are left as they are."""

    def cells(plan: Plan, kept: set, first: datetime, last: datetime) -> dict:
        sensor_ids = {sensor_id for sensor_id, _ in kept}
        return compute(plan, _records(dataset.pk, sensor_ids, first, last))[0]

    _refresh(RecordRollup, "sensor", dataset, touched, cells, locked=locked, sql=sql)


def areas_refresh(
    dataset: Dataset, touched: set[tuple[int, datetime]], *, locked: bool = False, sql: bool | None = None
) -> None:
    """Recompute the touched (area, bucket)s from the records of every sensor placed there at the time.
    Buckets before `kept_from` are left as they are."""

    def cells(plan: Plan, kept: set, first: datetime, last: datetime) -> dict:
        placed = Placement.objects.filter(area_id__in={area_id for area_id, _ in kept}).filter(
            Q(starts_at__isnull=True) | Q(starts_at__lt=last), Q(ends_at__isnull=True) | Q(ends_at__gt=first)
        )
        sensor_ids = set(placed.values_list("sensor_id", flat=True))
        return compute(plan, _records(dataset.pk, sensor_ids, first, last), placements_of(sensor_ids))[1]

    _refresh(AreaRollup, "area", dataset, touched, cells, locked=locked, sql=sql)


def _refresh(model, kind: str, dataset: Dataset, touched: set, cells, *, locked: bool, sql: bool | None) -> None:
    """What both refreshes do: keep only buckets whose records are all kept, lock their rollup rows (unless the
    caller did), then recompute them in SQL, or in Python (`cells(plan, kept buckets, first, last)`, the reference) and
    replace the rows; a bucket without records left is deleted."""
    touched = _kept(dataset, touched)
    if not touched:
        return
    if not locked:
        lock(model, kind, dataset.pk, touched)
    plan = plan_for(dataset.schema_version)
    if in_sql() if sql is None else sql:
        _recompute_sql(plan, model, dataset, touched)
        return
    computed = cells(plan, touched, *_span({bucket for _, bucket in touched}))
    _replace(model, kind, dataset.pk, {key: computed.get(key) for key in touched})


def _replace(model, subject: str, dataset_id: int, cells: dict) -> None:
    """Write fresh cells over the stored ones; a cell that is now empty (None) is deleted."""
    fields = SENSOR_FIELDS if model is RecordRollup else AREA_FIELDS
    manager = model.objects.unguarded("ingest")
    fresh = [
        model(dataset_id=dataset_id, **{f"{subject}_id": key[0]}, bucket=key[1], **values)
        for key, values in sorted(cells.items())
        if values is not None
    ]
    empty = [key for key, values in cells.items() if values is None]
    if fresh:
        manager.bulk_create(
            fresh,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["dataset", subject, "bucket"],
            update_fields=list(fields),
        )
    for owner_id, bucket in empty:
        manager.filter(dataset_id=dataset_id, **{f"{subject}_id": owner_id}, bucket=bucket).delete()


def lock(model, subject: str, dataset_id: int, touched: set[tuple[int, datetime]]) -> None:
    """Lock the existing rollup rows about to be recomputed, in a fixed order (PostgreSQL): a batch adding to
    them waits for this transaction, or is seen by the recompute (its reads start after the locks are granted:
    READ COMMITTED). Sensor rows before area rows, as the ingest statement takes them: no deadlock."""
    if connection.vendor != "postgresql" or not touched:
        return
    keys = sorted(touched)
    with connection.cursor() as cursor:
        cursor.execute(
            lock_sql(model._meta.db_table, subject, ARRAY_KEYS),
            {"dataset": dataset_id, "owners": [owner for owner, _ in keys], "buckets": [bucket for _, bucket in keys]},
        )


# Placements ----------------------------------------------------------------------------------------------


def placements_changed(sender=None, *, sensor_id: int, start: datetime | None, end: datetime | None, **kwargs):
    """Receiver of sensors.signals.placements_changed: recompute the area rollups of every dataset the sensor
    has rollups in, over [start, end), from the records still kept (older buckets keep their attribution).

    First it takes the ingest lock of every dataset the sensor feeds or has rollups in, exclusively, in the
    order of their ids: a batch in flight (which read the old placements) commits before the recompute reads
    the records, and a later batch waits for this transaction and reads the new placements."""
    datasets = Dataset.objects.filter(
        Q(pk__in=RecordRollup.objects.unguarded("ingest").filter(sensor_id=sensor_id).values("dataset_id"))
        | Q(pk__in=Dataset.sensors.through.objects.filter(sensor_id=sensor_id).values("dataset_id"))
    ).select_related("schema_version")
    datasets = list(datasets.order_by("pk"))
    for dataset in datasets:
        advisory_xact_lock(LockNamespace.INGEST, dataset.pk)  # as storage.lock_dataset (exclusive)
    for dataset in datasets:
        first = max(bucket_of(start), kept_from(dataset)) if start else kept_from(dataset)
        buckets = RecordRollup.objects.unguarded("ingest").filter(
            dataset=dataset, sensor_id=sensor_id, bucket__gte=first
        )
        if end is not None:
            buckets = buckets.filter(bucket__lt=end)
        buckets = set(buckets.values_list("bucket", flat=True))
        if not buckets:
            continue
        # Areas that may hold the sensor's records in those buckets: the stored ones and the placements' ones.
        lo, hi = _span(buckets)
        areas = set(
            AreaRollup.objects.unguarded("ingest")
            .filter(dataset=dataset, bucket__gte=lo, bucket__lt=hi)
            .values_list("area_id", flat=True)
        )
        areas |= set(Placement.objects.filter(sensor_id=sensor_id).values_list("area_id", flat=True))
        touched = {(area_id, bucket) for area_id in areas for bucket in buckets}
        areas_refresh(dataset, touched)


# Verification --------------------------------------------------------------------------------------------


@dataclass
class Difference:
    table: str
    key: tuple
    field: str
    stored: object
    computed: object

    def __str__(self) -> str:
        owner, bucket = self.key
        moment = f"{bucket:%Y-%m-%dT%H:%MZ}"
        return f"{self.table} {owner} {moment} {self.field}: stored {self.stored!r}, records say {self.computed!r}"


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


# verify_rollups walks its range a day at a time: one day of records in memory (a 10 M-record dataset over a
# year: about 27,000), and the dataset's ingest lock held for one day's compare and repair.
VERIFY_CHUNK = timedelta(days=1)


def verify(
    dataset: Dataset,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    repair: bool = False,
    chunk: timedelta = VERIFY_CHUNK,
):
    """Recompute the dataset's sensor and area rollups over [start, end) from its records, where the records
    are still kept (from `kept_from`), and list every difference; `repair` writes the records' figures over the
    stored ones. Also lists records whose sensor does not exist (the references).

    A `chunk` (a day) at a time, each in its own transaction under the dataset's ingest lock, exclusive (as
    retention takes it): no batch commits between the reads of records and rollups and the repair, so none
    is reported as a difference or overwritten (a batch inserting a rollup row the repair also writes would
    otherwise lose its increment); batches wait for one chunk at most."""
    first = max(bucket_of(start), kept_from(dataset)) if start else kept_from(dataset)
    last = bucket_of(end) if end else None
    span = _extent(dataset, first, last)
    differences = []
    if span is None:
        return differences
    lo, hi = span
    while lo < hi:
        upto = min(lo + chunk, hi)
        with transaction.atomic():
            advisory_xact_lock(LockNamespace.INGEST, dataset.pk)  # as storage.lock_dataset (exclusive)
            differences += _verify_range(dataset, lo, upto, repair=repair)
        lo = upto
    return differences


def _extent(dataset: Dataset, first: datetime, last: datetime | None) -> tuple[datetime, datetime] | None:
    """The buckets of [first, last) that hold records or rollups: (first bucket, end of the last), or None."""
    records = Record.objects.unguarded("integrity").filter(dataset=dataset, sensor_id__isnull=False)
    found = [records.filter(observed_from__gte=first).aggregate(lo=Min("observed_from"), hi=Max("observed_from"))]
    for model in (RecordRollup, AreaRollup):
        rows = model.objects.unguarded("integrity").filter(dataset=dataset, bucket__gte=first)
        found.append(rows.aggregate(lo=Min("bucket"), hi=Max("bucket")))
    los = [bucket_of(f["lo"]) for f in found if f["lo"] is not None]
    if not los:
        return None
    lo, hi = min(los), max(bucket_of(f["hi"]) for f in found if f["hi"] is not None) + ROLLUP_GRAIN
    if last is not None:
        hi = min(hi, last)
    return (lo, hi) if lo < hi else None


def _verify_range(dataset: Dataset, first: datetime, last: datetime, *, repair: bool) -> list:
    plan = plan_for(dataset.schema_version)
    records = Record.objects.unguarded("integrity").filter(
        dataset=dataset, sensor_id__isnull=False, observed_from__gte=first, observed_from__lt=last
    )
    sensors = RecordRollup.objects.unguarded("integrity").filter(dataset=dataset, bucket__gte=first, bucket__lt=last)
    areas = AreaRollup.objects.unguarded("integrity").filter(dataset=dataset, bucket__gte=first, bucket__lt=last)
    rows = list(records.values(*RECORD_VALUES))
    placements = placements_of({row["sensor_id"] for row in rows} | set(sensors.values_list("sensor_id", flat=True)))
    sensor_cells, area_cells = compute(plan, rows, placements)
    differences = []
    for table, stored_rows, computed, subject, fields in (
        ("sensor", sensors, sensor_cells, "sensor_id", SENSOR_FIELDS),
        ("area", areas, area_cells, "area_id", AREA_FIELDS),
    ):
        stored = {(row[subject], row["bucket"]): row for row in stored_rows.values(subject, "bucket", *fields)}
        for key in sorted(set(stored) | set(computed)):
            have, want = stored.get(key), computed.get(key)
            if have is None or want is None:
                differences.append(Difference(table, key, "row", "present" if have else None,
                                              "present" if want else None))  # fmt: skip
                continue
            differences += [
                Difference(table, key, name, have[name], want[name])
                for name in fields
                if not _same(have[name], want[name])
            ]
        wrong = {d.key for d in differences if d.table == table}
        if repair and wrong and in_sql():
            # Recomputed in SQL (the dataset is locked: no batch adds to these rows meanwhile).
            (sensors_refresh if table == "sensor" else areas_refresh)(dataset, wrong)
        elif repair and wrong:
            model = RecordRollup if table == "sensor" else AreaRollup
            _replace(model, subject[:-3], dataset.pk, {key: computed.get(key) for key in wrong})
    return differences


def records_without_sensor(dataset: Dataset, start: datetime | None = None, end: datetime | None = None) -> int:
    """Records whose sensor does not exist (the reference check, whether or not the table has the foreign key)."""
    records = Record.objects.unguarded("integrity").filter(dataset=dataset, sensor_id__isnull=False)
    if start is not None:
        records = records.filter(observed_from__gte=start)
    if end is not None:
        records = records.filter(observed_from__lt=end)
    return records.exclude(sensor_id__in=Sensor.objects.values("pk")).count()


# PostgreSQL: the batch's new records added to both rollups in the ingest statement -------------------------

BUCKET_SQL = "date_bin('15 minutes', {t}, TIMESTAMPTZ '2000-01-01 00:00:00+00')"


def _added(column: str, target: str = "u") -> str:
    """SUM semantics across two partial sums: NULL only when both are NULL."""
    return (
        f"{column} = CASE WHEN {target}.{column} IS NULL AND EXCLUDED.{column} IS NULL THEN NULL "
        f"ELSE COALESCE({target}.{column}, 0) + COALESCE(EXCLUDED.{column}, 0) END"
    )


def _quote(key: str) -> str:
    return "'" + key.replace("'", "''") + "'"


def _data_sums(plan: Plan, source: str, where: str = "") -> str:
    if not plan.data_sums:
        return "NULL::jsonb"
    # Numbers only, as the Python reference (`_Cell.add`) counts them.
    parts = ", ".join(
        f"{_quote(key)}, sum(CASE WHEN jsonb_typeof({source}data->{_quote(key)}) = 'number' "
        f"THEN ({source}data->>{_quote(key)})::numeric END){where}"
        for key in plan.data_sums
    )
    return f"jsonb_build_object({parts})"


def _data_sums_merge(plan: Plan, target: str) -> str:
    if not plan.data_sums:
        return f"data_sums = {target}.data_sums"
    parts = []
    for key in plan.data_sums:
        a, b = f"({target}.data_sums->>{_quote(key)})::numeric", f"(EXCLUDED.data_sums->>{_quote(key)})::numeric"
        parts.append(f"{_quote(key)}, CASE WHEN {a} IS NULL AND {b} IS NULL THEN NULL "
                     f"ELSE COALESCE({a}, 0) + COALESCE({b}, 0) END")  # fmt: skip
    return f"data_sums = jsonb_build_object({', '.join(parts)})"


@lru_cache(maxsize=64)
def increment_sql(plan: Plan) -> str:
    """CTEs `added` and `area_added` that follow the records upsert's CTE `upserted` (which returns the new
    records with `inserted`): the new records go to their sensor's and their area's 15-minute buckets."""
    g = {None: "NULL::float8", "gauge": "gauge", "count": "count::float8"}[plan.gauge]
    covered = "sum(extract(epoch FROM observed_to - observed_from))::bigint" if plan.interval else "NULL::bigint"
    sums = {column: f"sum({column})" if column in plan.sums else "NULL::bigint" for column in SUM_COLUMNS}
    gauge_sum = "NULL::float8" if plan.energy else f"sum({g})"
    energy = f"sum(power(10::float8, {g} / 10))" if plan.energy else "NULL::float8"
    last = f"(array_agg({g} ORDER BY observed_from DESC) FILTER (WHERE {g} IS NOT NULL))[1]"
    last_at = f"max(observed_from) FILTER (WHERE {g} IS NOT NULL)"
    sensor = f""", added AS (
    INSERT INTO datasets_recordrollup AS u
        (dataset_id, sensor_id, bucket, records, covered_seconds, count_in, count_out, count, gauge_sum, gauge_min,
         gauge_max, gauge_n, gauge_last, gauge_last_at, energy_sum, data_sums)
    SELECT %(dataset)s, sensor_id, {BUCKET_SQL.format(t="observed_from")}, count(*), {covered},
           {sums["count_in"]}, {sums["count_out"]}, {sums["count"]}, {gauge_sum}, min({g}), max({g}), count({g}),
           {last}, {last_at}, {energy}, {_data_sums(plan, "")}
    FROM upserted WHERE inserted GROUP BY 2, 3 ORDER BY 2, 3
    ON CONFLICT (dataset_id, sensor_id, bucket) DO UPDATE SET
        records = u.records + EXCLUDED.records, {_added("covered_seconds")}, {_added("count_in")},
        {_added("count_out")}, {_added("count")}, {_added("gauge_sum")},
        gauge_min = LEAST(u.gauge_min, EXCLUDED.gauge_min),
        gauge_max = GREATEST(u.gauge_max, EXCLUDED.gauge_max), gauge_n = u.gauge_n + EXCLUDED.gauge_n,
        gauge_last = CASE WHEN EXCLUDED.gauge_last_at IS NOT NULL
                               AND (u.gauge_last_at IS NULL OR EXCLUDED.gauge_last_at >= u.gauge_last_at)
                          THEN EXCLUDED.gauge_last ELSE u.gauge_last END,
        gauge_last_at = GREATEST(u.gauge_last_at, EXCLUDED.gauge_last_at), {_added("energy_sum")},
        {_data_sums_merge(plan, "u")}
    RETURNING u.sensor_id, u.bucket, (u.xmax = 0) AS fresh
)"""  # noqa: S608 (built from this module's constants and the schema's measure names, quoted)
    # The area rollup: each new record in the area of its sensor's placement at its observed_from.
    xg = {None: "NULL::float8", "gauge": "x.gauge", "count": "x.count::float8"}[plan.gauge]
    inside = "p.direction = 'inside'"
    area_in = "CASE p.direction WHEN 'enters' THEN x.count_in WHEN 'leaves' THEN x.count_out END"
    area_out = "CASE p.direction WHEN 'enters' THEN x.count_out WHEN 'leaves' THEN x.count_in END"
    a_sums = {
        "count_in": f"sum({area_in})" if "count_in" in plan.sums else "NULL::bigint",
        "count_out": f"sum({area_out})" if "count_out" in plan.sums else "NULL::bigint",
        "count": "sum(x.count)" if "count" in plan.sums else "NULL::bigint",
    }
    a_covered = "sum(extract(epoch FROM x.observed_to - x.observed_from))::bigint" if plan.interval else "NULL::bigint"
    f = f" FILTER (WHERE {inside})"
    a_gauge_sum = "NULL::float8" if plan.energy else f"sum({xg}){f}"
    a_energy = f"sum(power(10::float8, {xg} / 10)){f}" if plan.energy else "NULL::float8"
    area = f""", area_added AS (
    INSERT INTO datasets_arearollup AS a
        (dataset_id, area_id, bucket, records, sensors, covered_seconds, count_in, count_out, count, gauge_sum,
         gauge_min, gauge_max, gauge_n, energy_sum, data_sums)
    SELECT %(dataset)s, p.area_id, x.bucket, count(*), count(DISTINCT x.sensor_id) FILTER (WHERE s.fresh),
           {a_covered}, {a_sums["count_in"]}, {a_sums["count_out"]}, {a_sums["count"]}, {a_gauge_sum},
           min({xg}){f}, max({xg}){f}, count({xg}){f}, {a_energy}, {_data_sums(plan, "x.")}
    FROM (SELECT *, {BUCKET_SQL.format(t="observed_from")} AS bucket FROM upserted WHERE inserted) x
    JOIN sensors_placement p ON p.sensor_id = x.sensor_id AND (p.starts_at IS NULL OR p.starts_at <= x.observed_from)
         AND (p.ends_at IS NULL OR x.observed_from < p.ends_at)
    JOIN added s ON s.sensor_id = x.sensor_id AND s.bucket = x.bucket
    GROUP BY 2, 3 ORDER BY 2, 3
    ON CONFLICT (dataset_id, area_id, bucket) DO UPDATE SET
        records = a.records + EXCLUDED.records, sensors = a.sensors + EXCLUDED.sensors,
        {_added("covered_seconds", "a")}, {_added("count_in", "a")}, {_added("count_out", "a")},
        {_added("count", "a")}, {_added("gauge_sum", "a")}, gauge_min = LEAST(a.gauge_min, EXCLUDED.gauge_min),
        gauge_max = GREATEST(a.gauge_max, EXCLUDED.gauge_max), gauge_n = a.gauge_n + EXCLUDED.gauge_n,
        {_added("energy_sum", "a")}, {_data_sums_merge(plan, "a")}
    RETURNING 1
)"""  # noqa: S608 (built from this module's constants and the schema's measure names, quoted)
    return sensor + area


# PostgreSQL: touched buckets recomputed from the records in one statement per rollup ------------------------


def _aggregates(plan: Plan, area: bool) -> dict[str, str]:
    """The rollup's columns as aggregates of the records `x` (joined, for an area, with their placement `p`),
    with the Python reference's semantics (`_Cell`): NULL sums when no record has the column, covered seconds
    0 (not NULL) for an interval schema, a gauge in an area only from `inside` placements."""
    g = {None: "NULL::float8", "gauge": "x.gauge", "count": "x.count::float8"}[plan.gauge]
    gf = " FILTER (WHERE p.direction = 'inside')" if area else ""
    sums = {column: (f"sum(x.{column})" if column in plan.sums else "NULL::bigint") for column in SUM_COLUMNS}
    if area:
        swapped = {"count_in": "count_out", "count_out": "count_in"}
        for column in ("count_in", "count_out"):
            if column in plan.sums:
                sums[column] = (f"sum(CASE p.direction WHEN 'enters' THEN x.{column} "
                                f"WHEN 'leaves' THEN x.{swapped[column]} END)")  # fmt: skip
    columns = {
        "records": "count(*)",
        "covered_seconds": "COALESCE(sum(floor(extract(epoch FROM x.observed_to - x.observed_from)))::bigint, 0)"
        if plan.interval
        else "NULL::bigint",
        **sums,
        "gauge_sum": "NULL::float8" if plan.energy else f"sum({g}){gf}",
        "gauge_min": f"min({g}){gf}",
        "gauge_max": f"max({g}){gf}",
        "gauge_n": f"count({g}){gf}",
        "gauge_last": f"(array_agg({g} ORDER BY x.observed_from DESC) FILTER (WHERE {g} IS NOT NULL))[1]",
        "gauge_last_at": f"max(x.observed_from) FILTER (WHERE {g} IS NOT NULL)",
        "energy_sum": f"sum(power(10::float8, {g} / 10)){gf}" if plan.energy else "NULL::float8",
        "data_sums": _data_sums(plan, "x."),
        "sensors": "count(DISTINCT x.sensor_id)",
    }
    return {name: columns[name] for name in (AREA_FIELDS if area else SENSOR_FIELDS)}


# The (owner, bucket)s to lock and recompute: given as two arrays, or (a batch that corrected records) the
# batch's own, read from the staging table it was copied into (datasets.storage), and the areas its sensors
# stood in during those buckets (placed at the bucket's start or from inside it, as `areas_of`).
ARRAY_KEYS = "SELECT * FROM unnest(%(owners)s::bigint[], %(buckets)s::timestamptz[]) k(owner, bucket)"
STAGED_SENSOR_KEYS = (
    f"SELECT DISTINCT sensor_id AS owner, {BUCKET_SQL.format(t='observed_from')} AS bucket "  # noqa: S608 (constants)
    "FROM ingest_stage WHERE sensor_id IS NOT NULL"
)
STAGED_AREA_KEYS = f"""SELECT DISTINCT p.area_id AS owner, s.bucket FROM ({STAGED_SENSOR_KEYS}) s
    JOIN sensors_placement p ON p.sensor_id = s.owner
         AND (p.starts_at IS NULL OR p.starts_at < s.bucket + INTERVAL '15 minutes')
         AND (p.ends_at IS NULL OR p.ends_at > s.bucket)"""  # noqa: S608 (constants)


# The (area, bucket)s a batch's new records went to where their sensor moved inside the bucket (a placement
# starts or ends strictly inside it): the ingest statement counts a sensor in an area bucket only when the
# sensor's own bucket row is new, which misses the second area of a move when the first area's records came
# in an earlier batch. They are locked and recomputed from the records (a rare case: placements off the grid).
SPLIT_AREA_KEYS = f"""SELECT DISTINCT p.area_id AS owner, s.bucket
    FROM (SELECT sensor_id, observed_from, {BUCKET_SQL.format(t="observed_from")} AS bucket FROM ingest_stage
          WHERE sensor_id IN (SELECT sensor_id FROM sensors_placement
                              WHERE starts_at <> {BUCKET_SQL.format(t="starts_at")}
                                 OR ends_at <> {BUCKET_SQL.format(t="ends_at")})) s
    JOIN sensors_placement p ON p.sensor_id = s.sensor_id
         AND (p.starts_at IS NULL OR p.starts_at <= s.observed_from) AND (p.ends_at IS NULL OR s.observed_from < p.ends_at)
    WHERE EXISTS (SELECT 1 FROM sensors_placement q WHERE q.sensor_id = s.sensor_id
                  AND (q.starts_at > s.bucket AND q.starts_at < s.bucket + INTERVAL '15 minutes'
                       OR q.ends_at > s.bucket AND q.ends_at < s.bucket + INTERVAL '15 minutes'))"""  # noqa: S608, E501


def moves_refresh(dataset: Dataset) -> None:
    """PostgreSQL, after a batch of new records: recompute the area buckets its sensors moved inside of
    (`SPLIT_AREA_KEYS`; nothing when no placement starts or ends off the 15-minute grid)."""
    with connection.cursor() as cursor:
        # Locked first: the batch's unchanged records may name buckets its statement did not lock.
        cursor.execute(lock_sql("datasets_arearollup", "area", SPLIT_AREA_KEYS), {"dataset": dataset.pk})
        cursor.execute(
            recompute_sql(plan_for(dataset.schema_version), True, SPLIT_AREA_KEYS),
            {"dataset": dataset.pk, "kept_from": kept_from(dataset)},
        )


def lock_sql(table: str, subject: str, keys: str) -> str:
    return (
        f"SELECT 1 FROM {table} r JOIN ({keys}) t ON r.{subject}_id = t.owner AND r.bucket = t.bucket "  # noqa: S608
        f"WHERE r.dataset_id = %(dataset)s ORDER BY r.{subject}_id, r.bucket FOR UPDATE OF r"
    )


def refresh_staged(dataset: Dataset) -> None:
    """PostgreSQL, after a batch that corrected records: `refresh` of the batch's buckets, with the keys read
    from the staging table (no round trip of the keys through Python)."""
    plan = plan_for(dataset.schema_version)
    params = {"dataset": dataset.pk}
    with connection.cursor() as cursor:
        cursor.execute(lock_sql("datasets_recordrollup", "sensor", STAGED_SENSOR_KEYS), params)
        cursor.execute(lock_sql("datasets_arearollup", "area", STAGED_AREA_KEYS), params)
        params["kept_from"] = kept_from(dataset)
        cursor.execute(recompute_sql(plan, False, STAGED_SENSOR_KEYS), params)
        cursor.execute(recompute_sql(plan, True, STAGED_AREA_KEYS), params)


@lru_cache(maxsize=128)
def recompute_sql(plan: Plan, area: bool, keys: str = ARRAY_KEYS) -> str:
    """One statement that recomputes the given (owner, bucket)s of the sensor or area rollup from the records
    and deletes those left without records; keys before %(kept_from)s (`kept_from`: retention deleted some of
    their records) are left as they are. Run after `lock` (a new statement, so under READ COMMITTED its
    snapshot holds every increment committed before the locks were granted)."""
    table, subject = ("datasets_arearollup", "area_id") if area else ("datasets_recordrollup", "sensor_id")
    columns = _aggregates(plan, area)
    records = """datasets_record x ON x.dataset_id = %(dataset)s AND x.sensor_id IS NOT NULL
         AND x.observed_from >= (SELECT min(bucket) FROM t)
         AND x.observed_from < (SELECT max(bucket) FROM t) + INTERVAL '15 minutes'
         AND x.observed_from >= t.bucket AND x.observed_from < t.bucket + INTERVAL '15 minutes'"""
    if area:
        source = f"""t JOIN sensors_placement p ON p.area_id = t.owner
         AND (p.starts_at IS NULL OR p.starts_at < t.bucket + INTERVAL '15 minutes')
         AND (p.ends_at IS NULL OR p.ends_at > t.bucket)
    JOIN {records} AND x.sensor_id = p.sensor_id
         AND (p.starts_at IS NULL OR p.starts_at <= x.observed_from)
         AND (p.ends_at IS NULL OR x.observed_from < p.ends_at)"""
    else:
        source = f"t JOIN {records} AND x.sensor_id = t.owner"
    names = ", ".join(columns)
    select = ",\n           ".join(f"{expression} AS {name}" for name, expression in columns.items())
    update = ", ".join(f"{name} = EXCLUDED.{name}" for name in columns)
    return f"""
WITH t AS MATERIALIZED (SELECT * FROM ({keys}) k WHERE k.bucket >= %(kept_from)s), fresh AS (
    SELECT t.owner, t.bucket,
           {select}
    FROM {source}
    GROUP BY t.owner, t.bucket
), written AS (
    INSERT INTO {table} AS u (dataset_id, {subject}, bucket, {names})
    SELECT %(dataset)s, owner, bucket, {names} FROM fresh ORDER BY owner, bucket
    ON CONFLICT (dataset_id, {subject}, bucket) DO UPDATE SET {update}
    RETURNING 1
), emptied AS (  -- EXCEPT, not NOT EXISTS: the planner, blind to the CTEs' sizes, nested-looped that (3 s)
    SELECT owner, bucket FROM t EXCEPT SELECT owner, bucket FROM fresh
)
DELETE FROM {table} u USING emptied e
WHERE u.dataset_id = %(dataset)s AND u.{subject} = e.owner AND u.bucket = e.bucket
"""  # noqa: S608 (built from this module's constants and the schema's measure names, quoted)


def _recompute_sql(plan: Plan, model, dataset: Dataset, touched: set[tuple[int, datetime]]) -> None:
    keys = sorted(touched)
    with connection.cursor() as cursor:
        cursor.execute(
            recompute_sql(plan, model is AreaRollup),
            {
                "dataset": dataset.pk,
                "owners": [owner for owner, _ in keys],
                "buckets": [bucket for _, bucket in keys],
                "kept_from": kept_from(dataset),
            },
        )
