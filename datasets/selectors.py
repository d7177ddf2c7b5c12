"""Reads for datasets: the public catalogue, coverage in space and time."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import available_timezones

from django.db import connection, connections
from django.db.models import BooleanField, Count, DateTimeField, F, Func, Max, Min, Q, QuerySet, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import ExtractMinute, TruncDay, TruncMonth

from accounts.selectors import Caller
from datasets.models import (
    AccessClassification,
    AreaRollup,
    Dataset,
    DatasetStatus,
    Record,
    RecordRollup,
    SchemaVersion,
)
from purposes.decisions import AccessDecision, UnguardedRead
from purposes.models import Grant
from sensors.models import Visibility
from sensors.selectors import sensor_visible_to


def public_datasets() -> QuerySet[Dataset]:
    """The catalogue: active datasets that are not restricted."""
    return (
        Dataset.objects.filter(status=DatasetStatus.ACTIVE)
        .exclude(access=AccessClassification.RESTRICTED)
        .select_related("owner", "schema_version__schema", "privacy_budget")
        .prefetch_related("sensors", "areas")
    )


@dataclass(frozen=True)
class DatasetPlaces:
    """Where a dataset's data comes from, as far as one caller may see it."""

    sensor_ids: list[int]
    area_ids: list[int]
    bbox: list[float] | None  # [min_lon, min_lat, max_lon, max_lat] of those sensors and areas


def dataset_places(dataset: Dataset, *, caller: Caller) -> DatasetPlaces:
    """The dataset's sensors, areas and bounding box, built from what the caller may see.

    The owner's members see all of it. Anyone else (other organisations, anonymous callers, the public
    catalogue) sees the sensors in the public register and those its own organisations control or
    operate: a restricted sensor shows only as a count per type and area in the register, never here.
    The owner's own areas are published with its dataset (its choice); no other organisation's area is.
    Reads the prefetched `sensors` and `areas`: no query per dataset in a list.
    """
    whole = caller.role_in(dataset.owner_id) is not None
    mine = caller.organisation_ids
    sensors = [s for s in dataset.sensors.all() if whole or sensor_visible_to(s, caller)]
    areas = [a for a in dataset.areas.all() if whole or a.owner_id == dataset.owner_id or a.owner_id in mine]
    lons, lats = [], []
    for sensor in sensors:
        if sensor.latitude is not None:
            lons.append(sensor.longitude)
            lats.append(sensor.latitude)
    for area in areas:
        lons += [area.min_lon, area.max_lon]
        lats += [area.min_lat, area.max_lat]
    bbox = [min(lons), min(lats), max(lons), max(lats)] if lons else None
    return DatasetPlaces(sensor_ids=[sensor.pk for sensor in sensors], area_ids=[area.pk for area in areas], bbox=bbox)


def dataset_time_span(dataset: Dataset) -> dict | None:
    """The first observation's start and the last one's end, as kept with the dataset (no query)."""
    if dataset.coverage_from is None or dataset.coverage_to is None:
        return None
    return {"start": dataset.coverage_from, "end": dataset.coverage_to}


def dataset_holds_records(dataset: Dataset) -> bool:
    return Record.objects.unguarded("coverage").filter(dataset=dataset).exists()


# Records as the records endpoint serves them ---------------------------------------------------------

RECORD_KEY_FIELDS = ("sensor", "series", "observed_from", "observed_to")
RECORD_MEASURE_FIELDS = ("count_in", "count_out", "count", "gauge", "data")
SUPPRESSIBLE = ("count_in", "count_out", "count")


@dataclass(frozen=True)
class PersonFields:
    """Where a schema's records hold numbers of persons: typed columns, and keys of `data`."""

    columns: frozenset[str]
    data_keys: frozenset[str]


def person_fields(schema_version) -> PersonFields:
    """From the schema's measures (unit `persons`; a mean is not a count of anyone) and derived columns."""
    columns, keys, names = set(), set(), set()
    for measure in schema_version.measures:
        if measure.get("unit") != "persons" or measure["name"].startswith("mean_"):
            continue
        names.add(measure["name"])
        if measure.get("column"):
            columns.add(measure["column"])
        else:
            keys.add(measure["name"])
    for column, sources in (schema_version.derived_columns or {}).items():
        if set(sources) & names:
            columns.add(column)
    return PersonFields(frozenset(columns), frozenset(keys))


def suppress_small(row: dict, k: int, persons: PersonFields) -> list[str]:
    """Withhold a row's numbers of persons when any of them is from 1 to k - 1; zero identifies no one.

    All of them go together (in + out = total; the distance bands add up to the count), so withholding
    one alone could be undone by subtraction. Returns the names withheld (`data.<key>` for keys of
    `data`), the row's `suppressed`."""
    data = row.get("data") if isinstance(row.get("data"), dict) else {}
    columns = [name for name in sorted(persons.columns) if isinstance(row.get(name), int | float)]
    keys = [key for key in sorted(persons.data_keys) if isinstance(data.get(key), int | float)]
    values = [row[name] for name in columns] + [data[key] for key in keys]
    if not any(0 < value < k for value in values):
        return []
    for name in columns:
        row[name] = None
    if keys:
        row["data"] = {**data, **dict.fromkeys(keys)}
    return columns + [f"data.{key}" for key in keys]


@dataclass
class RecordsPage:
    rows: list[dict]
    next_after: tuple | None  # the keyset position after the last row, when there is more
    cells: int = 0
    cells_suppressed: int = 0


def records_page(
    *,
    decision: AccessDecision,
    dataset: Dataset,
    sensor_ids: list[int] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    after: tuple | None = None,
    fields: list[str] | None = None,
    limit: int = 1000,
) -> RecordsPage:
    """One page of a dataset's records, read for a decision, in the order an index gives them.

    Keyset paging, so that a page reads no more rows than it returns, however deep (docs/adr/0008):
    - every sensor (or series): in (observed_from, id) order, the primary key's (dataset_id, observed_from,
      id) on PostgreSQL, where the months before `after` are not even opened; `after` is (id, observed_from)
      of the previous page's last row;
    - some sensors (`sensor_ids`): in (sensor, observed_from) order, the sensor natural key's; `after` is
      (sensor, observed_from).
    The decision's conditions are applied: fields it does not grant are left out, and counts below its k
    are suppressed (null, and named in `suppressed`).
    """
    records = _read(Record, decision, dataset)
    # The dataset's kept coverage bounds every page too: on PostgreSQL the plan then opens only the months
    # that hold the dataset's records, not every tenant's (docs/adr/0008).
    if dataset.coverage_from is not None:
        start = dataset.coverage_from if start is None else max(start, dataset.coverage_from)
    if dataset.coverage_to is not None and (end is None or end > dataset.coverage_to):
        records = records.filter(observed_from__lte=dataset.coverage_to)
    if start is not None:
        records = records.filter(observed_from__gte=start)
    if end is not None:
        records = records.filter(observed_from__lt=end)
    granted = decision.conditions.fields
    measures = [
        name
        for name in RECORD_MEASURE_FIELDS
        if (granted is None or name in granted) and (not fields or name in fields)
    ]
    columns = ("id", "sensor_id", "series", "observed_from", "observed_to", *measures)
    by_sensor = bool(sensor_ids)
    if by_sensor:
        values = _records_of_sensors(records, sorted(set(sensor_ids)), after, columns, limit + 1)
    else:
        if after is not None:
            records = records.filter(*_after(after))
        values = records.order_by("observed_from", "id").values(*columns)[: limit + 1]
    rows, k, persons = [], decision.conditions.k, person_fields(dataset.schema_version)
    last = None
    for record in values:
        row = {
            "sensor": record["sensor_id"],
            "series": record["series"] or None,
            "observed_from": record["observed_from"],
            "observed_to": record["observed_to"],
        }
        row.update((name, record[name]) for name in measures)
        row["suppressed"] = suppress_small(row, k, persons)
        rows.append(row)
        if len(rows) == limit:
            last = record
    more = len(rows) > limit
    rows = rows[:limit]
    next_after = None
    if more:
        next_after = (last["sensor_id"] if by_sensor else last["id"], last["observed_from"])
    return RecordsPage(
        rows=rows, next_after=next_after, cells=len(rows) * len(measures), cells_suppressed=_withheld(rows)
    )


def _records_of_sensors(records, sensor_ids: list[int], after: tuple | None, columns, limit: int) -> list[dict]:
    """Up to `limit` of these records in (sensor, observed_from) order from the keyset position `after`
    (sensor, observed_from), in one query. On PostgreSQL each sensor is read from its own range of the
    natural key (dataset_id, sensor_id, observed_from), in the order of the sorted ids (unnest WITH
    ORDINALITY, then a LATERAL read of at most `limit` rows per sensor in observed_from order, which the
    nested loop keeps: the outer query sorts by the ordinality alone, already its order, so no Sort node),
    and the outer LIMIT stops the reading as soon as the page is full: no more rows read than returned, plus
    one probe per sensor reached and month (an IN list would read the rows of the sensors in between).
    Ids that are no sensor of the dataset cost a probe each, in the same query."""
    first, moment = after or (None, None)
    if first is not None:
        sensor_ids = [sensor for sensor in sensor_ids if sensor >= first]
    if not sensor_ids:
        return []
    if connections[records.db].vendor != "postgresql":
        if first is not None:
            records = records.filter(Q(sensor_id__gt=first) | Q(sensor_id=first, observed_from__gt=moment))
        return list(
            records.filter(sensor_id__in=sensor_ids).order_by("sensor_id", "observed_from").values(*columns)[:limit]
        )
    own = records.filter(RawSQL('"datasets_record"."sensor_id" = wanted.sensor_id', [], output_field=BooleanField()))  # noqa: S611
    if first is not None:
        own = own.filter(
            RawSQL(
                '(wanted.sensor_id <> %s OR "datasets_record"."observed_from" > %s)',
                [first, moment],
                output_field=BooleanField(),
            )  # noqa: S611
        )
    inner = own.order_by("observed_from").values(*columns)[:limit]
    sql, params = inner.query.get_compiler(using=inner.db).as_sql()
    with connections[inner.db].cursor() as cursor:
        cursor.execute(
            "SELECT page.* FROM unnest(%s::bigint[]) WITH ORDINALITY AS wanted (sensor_id, n) "  # noqa: S608
            f"CROSS JOIN LATERAL ({sql}) page ORDER BY wanted.n LIMIT %s",
            [sensor_ids, *params, limit],
        )
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _read(model, decision: AccessDecision, dataset: Dataset):
    """A purpose-bound table's rows of one dataset, opened by a decision that covers it."""
    if not decision.covers(dataset.pk):
        raise UnguardedRead(f"The decision does not cover dataset {dataset.pk}.")
    return model.objects.for_decision(decision).filter(dataset_id=dataset.pk)


def _withheld(rows: list[dict]) -> int:
    return sum(len(row["suppressed"]) for row in rows)


def _after(after: tuple) -> list:
    """The rows after the keyset position (id, observed_from): (observed_from, id) > (moment, id), a row
    comparison the primary key serves on PostgreSQL, with a plain bound on observed_from that leaves the
    earlier months' partitions out of the plan."""
    value, moment = after
    if connection.vendor == "postgresql":
        condition = '("datasets_record"."observed_from", "datasets_record"."id") > (%s, %s)'
        return [Q(observed_from__gte=moment), RawSQL(condition, [moment, value], output_field=BooleanField())]  # noqa: S611
    return [Q(observed_from__gt=moment) | Q(observed_from=moment, id__gt=value)]


# Aggregated counts, as the counts endpoint serves them -------------------------------------------

BUCKETS = {"15m": 15, "hour": 60, "day": 24 * 60}
GAUGE_FIELDS = ("gauge_mean", "gauge_min", "gauge_max")


class LessMinutes(Func):
    """A moment less a whole number of minutes, in SQL."""

    output_field = DateTimeField()
    template = "(%(expressions)s)"
    arg_joiner = " - make_interval(mins => 1) * "

    def as_sqlite(self, compiler, connection, **extra):
        # Django's own SQLite function for moment arithmetic, with the minutes in microseconds.
        return self.as_sql(
            compiler, connection, template="django_format_dtdelta('-', %(expressions)s * 60000000)", arg_joiner=", "
        )


# Names zoneinfo finds on disk that are not places: the machine's own zone, tzdata's placeholder, and the
# copies of the database under other rules.
NOT_PLACES = {"localtime", "Factory", "posixrules"}


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    return frozenset(
        name for name in available_timezones() if name not in NOT_PLACES and not name.startswith(("posix/", "right/"))
    )


def bucket_start(moment: datetime, minutes: int, zone: tzinfo = UTC) -> datetime:
    """The start (in UTC) of the bucket of `minutes` that holds `moment`: a 15-minute bucket aligned in UTC, an
    hour or a day on the zone's clock. A day starts at its first moment: 01:00 where the clock skips midnight."""
    utc = moment.astimezone(UTC)
    if minutes == 15:
        return utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)
    local = utc.astimezone(zone)
    if minutes == 60:
        return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    return datetime.combine(local.date(), time(0), tzinfo=zone).astimezone(UTC)


def on_bucket_edge(moment: datetime, minutes: int, zone: tzinfo = UTC) -> bool:
    """Whether `moment` starts a bucket of `minutes` in `zone` (bucket_start)."""
    return bucket_start(moment, minutes, zone) == moment.astimezone(UTC)


def bucket_finer_than_data(dataset: Dataset, minutes: int) -> str | None:
    """Why a bucket of `minutes` is finer than the dataset's data can tell (None when it is not)."""
    period = dataset.schema_version.period
    if minutes < 60 and (period is None or period > timedelta(minutes=minutes)):
        every = f"every {period.total_seconds() / 60:g} minutes" if period else "without a fixed period"
        return f"The records of this dataset come {every}: a {minutes}-minute bucket would be finer than the data."
    return None


def _cell_seconds(start: datetime, bucket: str, zone: tzinfo) -> int:
    """How long a cell lasts: 15 minutes, an hour, or the zone's day (23 or 25 hours when the clock changes)."""
    if bucket != "day":
        return BUCKETS[bucket] * 60
    local = start.astimezone(zone)
    following = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
    return int((following.astimezone(UTC) - start.astimezone(UTC)).total_seconds())


def reads_as_a_named_party(decision: AccessDecision, dataset: Dataset) -> bool:
    """Whether the reader acts for the dataset's owner, or under a grant that names its organisation;
    otherwise it reads under an open grant (anyone may), and what it reads is public output."""
    if decision.acting_for_id is not None and decision.acting_for_id == dataset.owner_id:
        return True
    return Grant.objects.filter(pk__in=decision.grant_ids, dataset_id=dataset.pk, grantee__isnull=False).exists()


@dataclass
class CountCells:
    rows: list[dict]
    cells: int = 0
    cells_suppressed: int = 0
    truncated: bool = False  # more cells than the limit: ask for a narrower range


def counts_aggregate(
    *,
    decision: AccessDecision,
    dataset: Dataset,
    bucket: str,
    by: str,
    start: datetime | None = None,
    end: datetime | None = None,
    zone: tzinfo = UTC,
    area_ids: list[int] | None = None,
    limit: int = 10_000,
) -> CountCells:
    """Counts and gauges per bucket (15 minutes, or an hour or a day on `zone`'s clock) and per sensor or
    area, from the 15-minute rollups (ADR 0009), read for a decision. Areas come from their own rollup
    (records attributed to the placement of their sensor at the time), all or only `area_ids`. Cells of
    fewer than k persons are suppressed and flagged."""
    if by == "area":
        rollups, group = _read(AreaRollup, decision, dataset), "area_id"
        sensors = Max("sensors")
        if area_ids:
            rollups = rollups.filter(area_id__in=area_ids)
    else:
        rollups, group = _read(RecordRollup, decision, dataset), "sensor_id"
        sensors = Value(1)
        if not reads_as_a_named_party(decision, dataset):
            # Public figures: a restricted sensor counts in its area only, never as a sensor of its own.
            rollups = rollups.exclude(sensor__visibility=Visibility.RESTRICTED)
    if start is not None:
        rollups = rollups.filter(bucket__gte=start)
    if end is not None:
        rollups = rollups.filter(bucket__lt=end)
    if bucket == "day":
        period = TruncDay("bucket", tzinfo=zone)
    elif bucket == "hour":
        # The hour on the zone's clock that holds the bucket, as a moment: the bucket less its minutes there
        # (every offset is a multiple of 15 minutes), so the repeated hour of a clock change stays two hours.
        period = LessMinutes(F("bucket"), ExtractMinute("bucket", tzinfo=zone))
    else:
        period = F("bucket")
    cells = (
        rollups.annotate(period=period)
        .values("period", group)
        .annotate(
            count_in=Sum("count_in"),
            count_out=Sum("count_out"),
            count=Sum("count"),
            records=Sum("records"),
            covered=Sum("covered_seconds"),
            sensors=sensors,
            g_sum=Sum("gauge_sum"),
            g_n=Sum("gauge_n"),
            g_min=Min("gauge_min"),
            g_max=Max("gauge_max"),
            energy=Sum("energy_sum"),
        )
        .order_by("period", group)[: limit + 1]
    )
    cells = list(cells)
    truncated = len(cells) > limit
    version = dataset.schema_version
    rows, k = [], decision.conditions.k
    persons = person_fields(version)
    if "gauge" in persons.columns:  # a gauge of persons (occupancy) is withheld with the counts
        persons = PersonFields(persons.columns - {"gauge"} | set(GAUGE_FIELDS), persons.data_keys)
    period_seconds = version.period.total_seconds() if version.period and version.subject == "sensor" else None
    interval = version.time_semantics == version.TimeSemantics.INTERVAL
    for cell in cells[:limit]:
        moment = cell["period"].astimezone(zone)
        seconds = _cell_seconds(moment, bucket, zone)
        row = {"bucket": moment, by: cell[group], "records": cell["records"], "sensors": cell["sensors"]}
        row["covered_seconds"] = cell["covered"]
        # Completeness (docs/schemas.md): what tells a partial bucket from a counted zero.
        expected = seconds / period_seconds * cell["sensors"] if period_seconds else None
        row["expected_records"] = expected
        if interval and cell["covered"] is not None and period_seconds:
            row["completeness"] = round(min(cell["covered"] / (seconds * cell["sensors"]), 1.0), 4)
        else:
            row["completeness"] = round(cell["records"] / expected, 4) if expected else None
        row.update((name, cell[name]) for name in SUPPRESSIBLE)
        n = cell["g_n"] or 0
        if cell["energy"] is not None and n:
            mean = 10 * math.log10(cell["energy"] / n)  # the energy mean of a sound level in dB
        else:
            mean = cell["g_sum"] / n if n and cell["g_sum"] is not None else None
        row.update(gauge_mean=mean, gauge_min=cell["g_min"], gauge_max=cell["g_max"])
        row["suppressed"] = suppress_small(row, k, persons)
        rows.append(row)
    return CountCells(rows=rows, cells=3 * len(rows), cells_suppressed=_withheld(rows), truncated=truncated)


# The catalogue page's table of months: this many, the last with data.
COVERAGE_MONTHS = 12


def dataset_months(dataset: Dataset) -> list[dict]:
    """Per month (UTC) of the last COVERAGE_MONTHS with data: records, sensors that sent any, and the share of the
    month's time (within the dataset's first and last observation) those sensors' records cover. From the
    15-minute rollups of sensor data (catalogue metadata: no count of persons); [] for planned events."""
    if dataset.coverage_from is None or dataset.schema_version.subject != SchemaVersion.Subject.SENSOR:
        return []
    first, last = dataset.coverage_from, dataset.coverage_to
    since = max(first, last - timedelta(days=366)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rows = (
        RecordRollup.objects.unguarded("coverage")
        .filter(dataset_id=dataset.pk, bucket__gte=since)
        .annotate(month=TruncMonth("bucket", tzinfo=UTC))
        .values("month")
        .annotate(records=Sum("records"), covered=Sum("covered_seconds"), sensors=Count("sensor_id", distinct=True))
        .order_by("month")
    )
    version = dataset.schema_version
    months = []
    for row in rows:
        month = row["month"].astimezone(UTC)
        following = (month + timedelta(days=32)).replace(day=1)
        seconds = (min(following, last) - max(month, first)).total_seconds()
        if seconds <= 0 or not row["sensors"]:
            completeness = None
        elif row["covered"] is not None:
            completeness = min(row["covered"] / (seconds * row["sensors"]), 1.0)
        elif version.expected_records_per_hour:
            completeness = min(
                row["records"] / (seconds / 3600 * version.expected_records_per_hour * row["sensors"]), 1.0
            )
        else:
            completeness = None
        months.append(
            {"month": month, "records": row["records"], "sensors": row["sensors"], "completeness": completeness}
        )
    return months[-COVERAGE_MONTHS:]
