"""From a request body to checked rows: parse JSON, NDJSON or CSV, validate each record against the
dataset's schema version, resolve its sensor, check that it makes sense, and map it to typed columns.

Every problem names its record by a JSON Pointer (`/records/17/count_in`) and, for NDJSON and CSV,
by its line.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jsonschema_rs
import orjson
from django.conf import settings
from django.db import connection

from api.moments import in_utc
from api.parsers import csv_rows, loads
from datasets import rollups
from datasets.models import MAX_COUNT, Dataset, SchemaVersion
from sensors.models import ActivePeriod, Sensor, Suspension
from sensors.service_life import Refusal, ServiceLife

MAX_RECORDS = 10_000
FUTURE_TOLERANCE = timedelta(minutes=5)
# Planned events (the event calendar, subject `event`) are sent before they happen: up to 3 years ahead.
EVENTS_AHEAD = timedelta(days=3 * 366)
KEY_FIELDS = {"sensor", "sensor_id", "observed_from", "observed_to", "observed_at", "event_id"}
FORMATS = {"application/json": "json", "application/x-ndjson": "ndjson", "text/csv": "csv"}


@dataclass
class Problem:
    index: int | None
    field: str | None
    detail: str
    code: str = "invalid"
    line: int | None = None

    def as_error(self) -> dict:
        pointer = "/records" if self.index is None else f"/records/{self.index}"
        if self.field:
            pointer += f"/{self.field}"
        error = {"pointer": pointer, "detail": self.detail, "code": self.code}
        if self.line is not None:
            error["line"] = self.line
        return error


class BodyError(Exception):
    """The body as a whole cannot be read (not JSON, no `records`, too many records...)."""

    def __init__(
        self,
        detail: str,
        *,
        status: int = 400,
        code: str = "parse_error",
        line: int | None = None,
        pointer: str | None = None,
    ):
        super().__init__(detail)
        self.status, self.code, self.line, self.pointer = status, code, line, pointer


@dataclass(slots=True)
class Row:
    """A checked record, ready to store: its natural key and its typed columns."""

    index: int
    sensor_id: int | None
    series: str
    observed_from: datetime
    observed_to: datetime | None
    count_in: int | None
    count_out: int | None
    count: int | None
    gauge: float | None
    data: dict | None


@dataclass
class Prepared:
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    received: int = 0

    @property
    def rejected_indexes(self) -> set[int]:
        return {p.index for p in self.problems if p.index is not None}

    @property
    def rejected_by_reason(self) -> dict[str, int]:
        """Records refused per code (a record with two problems of one code counts once for it)."""
        reasons: dict[str, int] = {}
        for _, code in sorted({(p.index, p.code) for p in self.problems if p.index is not None}):
            reasons[code] = reasons.get(code, 0) + 1
        return dict(sorted(reasons.items()))


# Parsing -------------------------------------------------------------------------------------------


def check_count(n: int) -> None:
    if n > MAX_RECORDS:
        raise BodyError(
            f"{n} records; at most {MAX_RECORDS} per request. Split the batch.", status=413, code="too_many_records"
        )


# Parsers raise BodyError for a body that is not JSON, NDJSON or CSV, and api.parsers.BodyRefused (400,
# with a pointer or a line) for one that is, but holds what no record can: NUL, deep nesting, huge cells.


def no_records(detail: str = "The body holds no records.", pointer: str | None = None) -> BodyError:
    """One answer for every empty batch, whatever its format: 422 `no_records`, and no batch logged."""
    return BodyError(f"{detail} Send at least one record.", status=422, code="no_records", pointer=pointer)


def check_not_empty(body: bytes) -> None:
    if not body.strip():
        raise no_records("The body is empty.")


def json_document(body: bytes):
    """The JSON of a body, or a BodyError that says what is wrong with it: not UTF-8, or not JSON."""
    try:
        return loads(body)
    except orjson.JSONDecodeError as error:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as not_utf8:
            raise BodyError(
                f"The body is not UTF-8 (byte {not_utf8.start} cannot be read): JSON is sent in UTF-8.",
                code="not_utf8",
            ) from None
        raise BodyError(f"The body is not JSON: {error}") from None


def parse_json(body: bytes) -> list[tuple[int | None, object]]:
    check_not_empty(body)
    document = json_document(body)
    if not isinstance(document, dict) or not isinstance(document.get("records"), list):
        raise BodyError(
            'The body must be an object with a list of records: {"records": [...]}.',
            status=422,
            code="invalid",
            pointer="/records" if isinstance(document, dict) else "",
        )
    if not document["records"]:
        raise no_records("The list of records is empty.", pointer="/records")
    check_count(len(document["records"]))
    for index, record in enumerate(document["records"]):
        _check_is_object(record, pointer=f"/records/{index}")
    return [(None, record) for record in document["records"]]


def _check_is_object(record, *, pointer: str, line: int | None = None) -> None:
    # The envelope's shape, not a record's content: refused as a whole, also when `partial` reports bad records.
    if not isinstance(record, dict):
        raise BodyError("A record must be a JSON object.", status=422, code="invalid", line=line, pointer=pointer)


def parse_ndjson(body: bytes) -> list[tuple[int | None, object]]:
    check_not_empty(body)
    items = []
    for number, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            items.append((number, loads(line, prefix=f"/records/{len(items)}", line=number)))
        except orjson.JSONDecodeError as error:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                raise BodyError(
                    f"Line {number} is not UTF-8: NDJSON is sent in UTF-8.", code="not_utf8", line=number
                ) from None
            raise BodyError(f"Line {number} is not JSON: {error}", line=number) from None
        _check_is_object(items[-1][1], pointer="", line=number)
        if len(items) > MAX_RECORDS:
            check_count(len(items))
    return items


def _csv_converters(schema_version: SchemaVersion) -> dict:
    converters = {}
    for name, spec in schema_version.record_schema.get("properties", {}).items():
        kind = spec.get("type")
        if kind == "integer":
            converters[name] = int
        elif kind == "number":
            converters[name] = float
        elif kind == "boolean":
            converters[name] = _boolean
        elif kind == "array":
            converters[name] = lambda text: [part.strip() for part in text.split(";") if part.strip()]
    return converters


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"true", "1", "yes"}:
        return True
    if lowered in {"false", "0", "no"}:
        return False
    raise ValueError(f"{text!r} is not true or false")


def parse_csv(body: bytes, schema_version: SchemaVersion) -> tuple[list[tuple[int | None, object]], list[Problem]]:
    """Rows as records typed by the schema; empty cells are left out (missing, not zero)."""
    check_not_empty(body)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BodyError(f"The CSV is not UTF-8: {error}", code="not_utf8") from None
    reader, rows = csv_rows(text)
    if not reader.fieldnames:
        raise no_records("The CSV has no header row and no records.")
    converters = _csv_converters(schema_version)
    items, problems = [], []
    for line, row in rows:
        if not any(value for value in row.values() if value):
            continue
        record = {}
        for name, value in row.items():
            if name is None or value is None or value == "":
                continue
            convert = converters.get(name)
            try:
                record[name] = convert(value) if convert else value
            except ValueError:
                problems.append(Problem(len(items), name, f"{value!r} is not a valid {name}.", line=line))
        items.append((line, record))
        if len(items) > MAX_RECORDS:
            check_count(len(items))
    if not items:
        # A header alone is an export that found nothing, not a batch: say so rather than store an empty one.
        raise no_records("The CSV has a header row but no records.")
    return items, problems


def parse_body(body: bytes, content_type: str, schema_version: SchemaVersion):
    media_type = (content_type or "").split(";")[0].strip().lower()
    kind = FORMATS.get(media_type)
    if kind == "json":
        return kind, parse_json(body), []
    if kind == "ndjson":
        return kind, parse_ndjson(body), []
    if kind == "csv":
        items, problems = parse_csv(body, schema_version)
        return kind, items, problems
    raise unsupported(media_type, FORMATS)


def unsupported(media_type: str, accepted) -> BodyError:
    """415, saying whether the Content-Type was missing or is not one the endpoint reads."""
    accepted = ", ".join(accepted)
    if not media_type:
        detail = f"The request has no Content-Type; send {accepted}, and say so in the Content-Type header."
    else:
        detail = f"Send records as {accepted}; not {media_type}."
    return BodyError(detail, status=415, code="unsupported_media_type")


# Checking ------------------------------------------------------------------------------------------


@lru_cache(maxsize=128)
def _validator(version_id: int, sha: str, schema_json: bytes):
    return jsonschema_rs.validator_for(orjson.loads(schema_json), validate_formats=True)


def validator_for(schema_version: SchemaVersion):
    return _validator(schema_version.pk, schema_version.content_sha256, orjson.dumps(schema_version.record_schema))


def _duration(length: timedelta) -> str:
    seconds = int(length.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def measure_names(schema_version: SchemaVersion) -> set[str]:
    return {measure["name"] for measure in schema_version.measures}


def records_earliest() -> datetime:
    """The platform window's start (settings.RECORDS_EARLIEST, a UTC day): nothing is plausible before it."""
    return datetime.fromisoformat(settings.RECORDS_EARLIEST).replace(tzinfo=UTC)


class TimeOutOfRange(ValueError):
    """A well-formed time outside the platform window."""


def _parse_time(text: str, earliest: datetime, latest: datetime, ahead: str = "5 minutes") -> datetime:
    moment = datetime.fromisoformat(text)
    try:
        utc = in_utc(moment)
    except ValueError:
        utc = None  # year 1 moved east, year 9999 moved west: no UTC form, and far outside the window anyway
    if utc is None or not earliest <= utc <= latest:
        raise TimeOutOfRange(f"Must lie between {earliest:%Y-%m-%d} and {ahead} from now (UTC); {text} does not.")
    return utc


def _moment_or_problem(
    text: str, earliest: datetime, latest: datetime, ahead: str = "5 minutes"
) -> datetime | tuple[str, str]:
    """The moment in UTC, or why `text` is none: (code, detail). Both depend on the text alone, so a batch
    reads each distinct time once (a batch of 10,000 counts from 300 sensors holds about 70)."""
    try:
        return _parse_time(text, earliest, latest, ahead)
    except TimeOutOfRange as error:
        return "out_of_range", str(error)
    except ValueError as error:
        return "invalid", f"Not a time: {error}."


# JSON Schema keywords whose failure means "a value outside its range", reported as `out_of_range`.
RANGE_KEYWORDS = {"Minimum", "Maximum", "ExclusiveMinimum", "ExclusiveMaximum"}


def _schema_problem(error, index: int, line: int | None, counts: set[str]) -> Problem:
    path = "/".join(str(part) for part in error.instance_path)
    if type(error.kind).__name__ not in RANGE_KEYWORDS:
        return Problem(index, path or None, error.message, code="schema", line=line)
    detail = error.message
    if path in counts:
        detail = f"A count lies between 0 and {MAX_COUNT}; {error.instance} does not."
        if isinstance(error.instance, int | float) and error.instance < 0:
            # An export's missing-value marker (-1) is not a count: say what to send instead.
            detail += " A missing value is no record (leave the interval out), never a negative count."
    return Problem(index, path or None, detail, code="out_of_range", line=line)


def _locked_for_share(rows) -> list[tuple]:
    """The rows of a values_list queryset, locked FOR SHARE until the transaction ends (PostgreSQL; the same
    one query). The ingest checks its records against the service lives it reads here: a change of a life
    (sensors.services, which takes the sensor FOR UPDATE) waits until the batch is stored, and then counts
    what it stored in `records_outside_service`; a batch that reads during such a change waits for it and
    sees the new life. Batches share the lock, so they still run side by side. Django has no FOR SHARE."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return list(rows)
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR SHARE", params)
        return cursor.fetchall()


class SensorDirectory:
    """The sensors that feed a dataset, by id and by the operator's reference, with their service lives
    (four flat queries). A sensor feeds its datasets whatever its status today: its records are checked
    against its service life (sensors.service_life), so a removed sensor's history is still accepted.

    With `operator_ids` (a caller that pushes as an operator, not as the owner), only the sensors of
    those operators: another operator's sensor is unknown to it, exactly like one that does not exist."""

    def __init__(self, dataset: Dataset, operator_ids: set[int] | None = None):
        # pk__in rather than a join: the lock below then takes the sensors' rows only.
        feeding = Sensor.objects.filter(pk__in=Dataset.sensors.through.objects.filter(dataset=dataset).values("sensor"))
        if operator_ids is not None:
            feeding = feeding.filter(operator_id__in=operator_ids)
        feeding = feeding.order_by("pk").values_list(
            "pk", "reference", "operator_id", "status", "installed_at", "removed_at"
        )
        self.whose = "" if operator_ids is None else " you operate"
        self.by_id = {row[0]: row for row in _locked_for_share(feeding)}
        self.by_reference: dict[str, tuple | None] = {}
        for row in self.by_id.values():
            # None marks a reference that two operators use: such records must name sensor_id.
            self.by_reference[row[1]] = None if row[1] in self.by_reference else row
        self.lives = {
            pk: ServiceLife(name=reference, status=status, installed_at=installed_at, removed_at=removed_at)
            for pk, reference, _, status, installed_at, removed_at in self.by_id.values()
        }
        for sensor_id, starts_at, ends_at in Suspension.objects.filter(sensor_id__in=self.by_id).values_list(
            "sensor_id", "starts_at", "ends_at"
        ):
            self.lives[sensor_id].suspensions.append((starts_at, ends_at))
        for sensor_id, starts_at, ends_at in ActivePeriod.objects.filter(sensor_id__in=self.by_id).values_list(
            "sensor_id", "starts_at", "ends_at"
        ):
            self.lives[sensor_id].periods.append((starts_at, ends_at))

    def resolve(self, record: dict):
        """Returns (sensor row, problem field, problem detail)."""
        if "sensor_id" in record:
            sensor = self.by_id.get(record["sensor_id"])
            if sensor is None:
                return None, "sensor_id", f"No sensor{self.whose} with id {record['sensor_id']} feeds this dataset."
            return sensor, None, None
        reference = record["sensor"]
        if reference not in self.by_reference:
            return None, "sensor", f"No sensor{self.whose} with reference {reference!r} feeds this dataset."
        sensor = self.by_reference[reference]
        if sensor is None:
            return None, "sensor", f"Several operators use reference {reference!r}; name the sensor by sensor_id."
        return sensor, None, None

    def refusal(self, sensor: tuple, moment: datetime) -> Refusal | None:
        """None when the sensor was in service at `moment`; else why not (a code and a sentence). Only for a
        sensor `resolve` found: the caller may know its service life (it feeds the caller's dataset, or the
        caller operates it)."""
        return self.lives[sensor[0]].refusal(moment)


COUNT_COLUMNS = ("count_in", "count_out", "count")


def _count_problem(values: dict, columns: dict, record: dict) -> tuple[str | None, str] | None:
    """(field, detail) when a count is not a whole number within 0..MAX_COUNT; whole floats (3.0) become ints.

    JSON Schema counts 3.0 as an integer, so the schema lets it through; the bigint columns need an int."""
    for column in COUNT_COLUMNS:
        value = values[column]
        if value is None or (type(value) is int and 0 <= value <= MAX_COUNT):
            continue  # the usual case, on the ingest path: nothing to do
        if isinstance(value, float) and value.is_integer():
            value = values[column] = int(value)
            if 0 <= value <= MAX_COUNT:
                continue
        field = next((name for name, col in columns.items() if col == column and name in record), None)
        if isinstance(value, float):
            return field, f"{value} is not a whole number."
        return field, f"A count lies between 0 and {MAX_COUNT}; {value} does not."
    return None


def prepare(
    *, dataset: Dataset, items: list[tuple[int | None, object]], now: datetime, operator_ids: set[int] | None
) -> Prepared:
    """Check every record; `operator_ids`, when given, limits sensors to those the caller operates."""
    schema_version = dataset.schema_version
    validator = validator_for(schema_version)
    interval = schema_version.time_semantics == SchemaVersion.TimeSemantics.INTERVAL
    by_sensor = schema_version.subject == SchemaVersion.Subject.SENSOR
    columns = {m["name"]: m["column"] for m in schema_version.measures if m.get("column")}
    derived = schema_version.derived_columns or {}
    # Fields that go to `data` (neither key nor typed column); most schemas have few or none.
    loose = set(schema_version.record_schema.get("properties", {})) - KEY_FIELDS - set(columns)
    directory = SensorDirectory(dataset, operator_ids) if by_sensor else None
    latest, ahead = (now + FUTURE_TOLERANCE, "5 minutes") if by_sensor else (now + EVENTS_AHEAD, "3 years")
    earliest = records_earliest()
    # Records before the retention cutoff (rounded up to a whole rollup bucket): retention deleted their
    # bucket's records and kept its rollups, which already count them (ADR 0009). Taken again, a re-sent
    # record would be counted twice, and a correction would recompute the bucket from the few records left.
    kept_from = rollups.kept_from(dataset, now)
    max_interval = schema_version.max_interval
    counts = {name for name, spec in schema_version.record_schema.get("properties", {}).items()
              if name in measure_names(schema_version) and spec.get("type") == "integer"}  # fmt: skip
    prepared = Prepared(received=len(items))
    problems = prepared.problems
    seen: dict[tuple, int] = {}
    time_fields = ("observed_from", "observed_to") if interval else ("observed_at",)
    moments: dict[str, datetime | tuple[str, str]] = {}  # each distinct time of the batch, read once
    derived_sums = [(column, tuple(parts)) for column, parts in derived.items()]

    for index, (line, record) in enumerate(items):
        if not isinstance(record, dict):
            problems.append(Problem(index, None, "A record must be a JSON object.", line=line))
            continue
        if not validator.is_valid(record):
            for error in validator.iter_errors(record):
                problems.append(_schema_problem(error, index, line, counts))
            continue
        start = end = None
        for name in time_fields:
            text = record[name]
            moment = moments.get(text) if type(text) is str else None
            if moment is None:
                moment = _moment_or_problem(text, earliest, latest, ahead)
                if type(text) is str:
                    moments[text] = moment
            if type(moment) is tuple:
                problems.append(Problem(index, name, moment[1], code=moment[0], line=line))
                start = None
                break
            if start is None:
                start = moment
            else:
                end = moment
        if start is None:
            continue
        if rollups.bucket_of(start) < kept_from:
            problems.append(
                Problem(
                    index,
                    time_fields[0],
                    f"The dataset keeps records for {dataset.retention_days} days: records before "
                    f"{kept_from:%Y-%m-%dT%H:%MZ} are no longer taken (their rollups are kept and already count "
                    "what was sent then).",
                    code="older_than_retention",
                    line=line,
                )
            )
            continue
        if end is not None and end <= start:
            problems.append(Problem(index, "observed_to", "Must be after observed_from.", line=line))
            continue
        if end is not None and max_interval is not None and end - start > max_interval:
            problems.append(
                Problem(
                    index,
                    "observed_to",
                    f"An interval of this schema lasts at most {_duration(max_interval)}; this one lasts "
                    f"{_duration(end - start)}.",
                    code="interval_too_long",
                    line=line,
                )
            )
            continue
        sensor_id, series = None, ""
        if by_sensor:
            sensor, field_name, detail = directory.resolve(record)
            if sensor is None:
                problems.append(Problem(index, field_name, detail, code="unknown_sensor", line=line))
                continue
            if refusal := directory.refusal(sensor, start):
                field_name = "sensor" if "sensor" in record else "sensor_id"
                problems.append(Problem(index, field_name, refusal.detail, code=refusal.code, line=line))
                continue
            sensor_id = sensor[0]
            key = (sensor_id, start)
        else:
            series = record["event_id"]
            key = (series, start)
        if key in seen:
            problems.append(
                Problem(
                    index, None, f"Same natural key as /records/{seen[key]} in this batch.", code="duplicate", line=line
                )
            )
            continue
        seen[key] = index

        values = {"count_in": None, "count_out": None, "count": None, "gauge": None}
        for name, column in columns.items():
            if name in record:
                values[column] = record[name]
        for column, parts in derived_sums:  # a column the record leaves out, when it has every part: their sum
            if values[column] is None:
                total = 0
                for part in parts:
                    if part not in record:
                        break
                    total += record[part]
                else:
                    values[column] = total
        if bad := _count_problem(values, columns, record):
            problems.append(Problem(index, bad[0], bad[1], code="out_of_range", line=line))
            continue
        rest = {k: record[k] for k in loose if k in record} if loose else None
        prepared.rows.append(
            Row(
                index,
                sensor_id,
                series,
                start,
                end,
                values["count_in"],
                values["count_out"],
                values["count"],
                None if values["gauge"] is None else float(values["gauge"]),
                rest or None,
            )  # fmt: skip
        )
    return prepared
