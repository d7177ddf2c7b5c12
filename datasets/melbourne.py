"""The City of Melbourne's hourly pedestrian counts as records of the `hourly-pedestrian-count` schema.

The city has published two shapes, both read here as a stream (one row at a time):

- wide: `Date,Hour,<sensor name>,<sensor name>,...`, one column per sensor named by the register's
  `sensor_description`; dates `1-Jan-10` (older files) or `01/01/2019` (newer, day first); Hour 0-23;
  sometimes a totals row at the end (no date, the column sums) and rows of empty cells.
- long (the open data portal): `ID,Date_Time,Year,Month,Mdate,Day,Time,Sensor_ID,Sensor_Name,
  Hourly_Counts`, one row per sensor and hour; Date_Time either ISO 8601 (with an offset, or
  naive) or the US long style `November 01, 2019 05:00:00 PM`. Sensor_ID is the register's
  `sensor_id` (our reference); Sensor_Name is used where a file has no id.

An empty cell, `-1` and `undefined` mean "no record" (the sensor was offline): they produce no
record and are counted per marker and sensor. A cell that is neither a marker nor a whole number
>= 0 is rejected with its line and column. Naive times are Melbourne's local time: an hour that does
not exist (the spring-forward gap) is rejected, an hour that occurs twice (autumn) is read as the
first (daylight) hour on its first occurrence and the second (standard) hour on its second.

A broken row is refused whole, with its line, and none of its cells is counted as missing: fewer
cells than the header (`short_row`: the file was cut off mid-row), more non-empty cells
(`extra_cells`), a cell holding a line break (`unclosed_quote`: a quote that opens in one line and
closes lines later made them one cell) or a row a strict csv reader cannot parse (`bad_csv`). A file
that ends inside a quoted field (a strict reader's "unexpected end of data") raises CutOff.
"""

import csv
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MELBOURNE = ZoneInfo("Australia/Melbourne")
HOUR = timedelta(hours=1)
# Column or sensor name in the counts files -> the register's sensor name (sensor_description).
ALIASES = {"Flinders St Station Underpass": "Flinders Street Station Underpass"}
# The markers of a missing value, by how they are reported.
MISSING = {"": "empty", "-1": "-1", "undefined": "undefined"}
WIDE_DATE_FORMATS = ("%d-%b-%y", "%d/%m/%Y", "%Y-%m-%d")  # 1-Jan-10, 01/01/2019 (day first), 2019-01-01
LONG_TIME_FORMATS = ("%B %d, %Y %I:%M:%S %p", "%b %d, %Y %I:%M:%S %p")  # November 01, 2019 05:00:00 PM
LONG_COLUMNS = ("id", "date_time", "year", "month", "mdate", "day", "time", "sensor_id", "sensor_name", "hourly_counts")
WHOLE = re.compile(r"[0-9]+")
MAX_DIGITS = 18  # larger numbers are no count of people (and would not fit a bigint)
TOTALS_WORDS = {"total", "totals", "sum"}
DETAILS_KEPT = 1000  # rejected cells listed per reason; the rest are counted
NAMES_KEPT = 1000  # sensor names counted one by one (a file of made-up names cannot fill the memory)
OTHER_NAMES = "(other names)"


class FormatError(ValueError):
    """The header is neither of the city's formats."""


class CutOff(ValueError):
    """The file ends inside a quoted field: it was cut off, or a quote is never closed."""

    def __init__(self, line: int):
        self.line = line
        super().__init__(
            f"the file ends inside a quoted field that opens in line {line}: it was cut off, or a quote is not closed"
        )


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


class Register:
    """The sensors a file may name: by reference (Sensor_ID) and by name, with ALIASES."""

    def __init__(self, sensors: Iterable[tuple[str, str]]):
        self.references: set[str] = set()
        self.names: dict[str, str] = {}
        for reference, name in sensors:
            self.references.add(reference)
            self.names[_key(name)] = reference
        for alias, name in ALIASES.items():
            if _key(name) in self.names:
                self.names.setdefault(_key(alias), self.names[_key(name)])

    def by_name(self, name: str) -> str | None:
        return self.names.get(_key(name))

    def by_reference(self, reference: str) -> str | None:
        return reference if reference in self.references else None


@dataclass
class Report:
    """What the file held besides records: missing cells, rejected cells, totals rows, unknown names."""

    format: str = ""
    lines: int = 0  # the line number of the last row read (the header is line 1)
    missing: Counter = field(default_factory=Counter)  # marker -> cells
    missing_by_sensor: dict[str, Counter] = field(default_factory=dict)  # column or sensor -> marker -> cells
    rejected: Counter = field(default_factory=Counter)  # reason -> cells
    occurrences: Counter = field(default_factory=Counter)  # reason -> cells or rows refused (one detail each)
    details: dict[str, list[tuple[int, str, str, str]]] = field(
        default_factory=dict
    )  # reason -> (line, column, value, why)
    totals_rows: list[tuple[int, bool]] = field(default_factory=list)  # (line, matches the column sums)
    blank_rows: int = 0
    unknown: Counter = field(default_factory=Counter)  # column or sensor naming no sensor -> cells with a count
    ignored_columns: list[str] = field(default_factory=list)

    def note_missing(self, sensor: str, marker: str) -> None:
        self.missing[marker] += 1
        if sensor not in self.missing_by_sensor and len(self.missing_by_sensor) >= NAMES_KEPT:
            sensor = OTHER_NAMES
        self.missing_by_sensor.setdefault(sensor, Counter())[marker] += 1

    def note_unknown(self, name: str) -> None:
        if name not in self.unknown and len(self.unknown) >= NAMES_KEPT:
            name = OTHER_NAMES
        self.unknown[name] += 1

    def reject(self, reason: str, line: int, column: str, value: str, why: str, cells: int = 1) -> None:
        self.rejected[reason] += cells
        self.occurrences[reason] += 1
        kept = self.details.setdefault(reason, [])
        if len(kept) < DETAILS_KEPT:
            kept.append((line, column, value, why))


def detect(header: list[str]) -> str:
    """'wide' or 'long', from the header row; FormatError naming the columns otherwise."""
    names = [_key(name) for name in header]
    if len(names) > 2 and names[:2] == ["date", "hour"]:
        return "wide"
    if "date_time" in names and "hourly_counts" in names and ("sensor_id" in names or "sensor_name" in names):
        return "long"
    shown = ", ".join(repr(name) for name in header[:12]) + (
        f" and {len(header) - 12} more" if len(header) > 12 else ""
    )
    raise FormatError(
        f"Not a format of the City of Melbourne's counts: the header has the columns {shown or 'none'}. "
        "Expected the wide format (Date,Hour,<sensor name>,...) or the long format (Date_Time, "
        "Sensor_ID or Sensor_Name, Hourly_Counts; optionally ID, Year, Month, Mdate, Day, Time)."
    )


def records(rows: Iterable[list[str]], register: Register, report: Report) -> Iterator[tuple[int, dict]]:
    """(line, record) for every count in `rows` (a csv.reader, header first), filling `report`.

    A generator: rows are read as records are taken, so a file of any size streams."""
    rows = iter(rows)
    header = next(rows, None)
    if header is None:
        raise FormatError("The file is empty: no header row.")
    report.format = detect(header)
    line_of = (lambda: rows.line_num) if hasattr(rows, "line_num") else None
    # A refused row counts as the cells it stands for: one per sensor column (wide) or one (long).
    numbered = _numbered(rows, line_of, report, len(header) - 2 if report.format == "wide" else 1)
    if report.format == "wide":
        return _wide(header, numbered, register, report)
    return _long(header, numbered, register, report)


def _numbered(rows: Iterator[list[str]], line_of, report: Report, per_row: int) -> Iterator[tuple[int, list[str]]]:
    """(line, row) for the rows that are whole CSV rows; the others are refused here, by line."""
    line = 1
    while True:
        first = line + 1  # a row spans lines first to line (more than one if a quoted cell holds line breaks)
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as error:  # a strict reader: a stray quote, or the end of the file inside quotes
            line = line_of() if line_of else first
            report.lines = line
            if "end of data" in str(error):
                raise CutOff(first) from None
            report.reject("bad_csv", first, "", "", f"not a CSV row ({error})", cells=per_row)
            continue
        line = line_of() if line_of else first
        report.lines = line
        if any("\n" in cell or "\r" in cell for cell in row):
            report.reject("unclosed_quote", first, "", "", f"lines {first} to {line} read as one row: a quote that "
                          f"opens in line {first} closes only in line {line}, or never; refused whole",
                          cells=per_row * (line - first + 1))  # fmt: skip
            continue
        yield line, row


def _count(value: str) -> tuple[int | None, str | None, str]:
    """(count, None, '') for a whole number; (None, marker, '') for a missing marker; (None, None, reason)."""
    marker = MISSING.get(value.strip().lower())
    if marker is not None:
        return None, marker, ""
    text = value.strip()
    if not WHOLE.fullmatch(text):
        return None, None, "not_a_count"
    if len(text.lstrip("0")) > MAX_DIGITS:
        return None, None, "too_large"
    return int(text), None, ""


WHY = {
    "not_a_count": "not a whole number >= 0 nor a missing marker (empty, -1, undefined)",
    "too_large": f"more than {MAX_DIGITS} digits",
    "nonexistent_time": "this hour does not exist in Melbourne (the clocks go forward)",
    "repeated_time": "this hour occurs twice in Melbourne, and the file has it a third time",
}


def _short(row: list[str], width: int) -> str:
    return f"{len(row)} cells, the header has {width}: the row is cut off; refused whole"


class _Clock:
    """Melbourne's local wall-clock hours as aware datetimes: None for an hour that does not exist;
    the first and second occurrence of a repeated hour, per key, get the daylight and standard offset."""

    def __init__(self):
        self.seen: Counter = Counter()

    def local(self, naive: datetime, key) -> tuple[datetime | None, str]:
        first = naive.replace(tzinfo=MELBOURNE, fold=0)
        if first.astimezone(UTC).astimezone(MELBOURNE).replace(tzinfo=None) != naive:
            return None, "nonexistent_time"
        second = naive.replace(tzinfo=MELBOURNE, fold=1)
        if first.utcoffset() == second.utcoffset():
            return first, ""
        self.seen[(key, naive)] += 1
        occurrence = self.seen[(key, naive)]
        if occurrence > 2:
            return None, "repeated_time"
        return (first if occurrence == 1 else second), ""


def _record(reference: str, start: datetime, count: int) -> dict:
    end = (start.astimezone(UTC) + HOUR).astimezone(MELBOURNE)
    return {"sensor": reference, "observed_from": start.isoformat(), "observed_to": end.isoformat(), "count": count}


def _wide_date(text: str) -> date | None:
    for pattern in WIDE_DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _wide(header, rows, register: Register, report: Report) -> Iterator[tuple[int, dict]]:
    columns = [name.strip() for name in header[2:]]
    references = [register.by_name(name) for name in columns]
    sums = [0] * len(columns)
    clock = _Clock()
    for line, row in rows:
        report.lines = line
        if not any(cell.strip() for cell in row):
            report.blank_rows += 1
            continue
        if len(row) < len(header):  # cut off: its last cell may be cut too, and the missing ones are no marker
            report.reject("short_row", line, "", "", _short(row, len(header)), cells=len(columns))
            continue
        cells = row[2 : len(columns) + 2]
        if len(row) > len(columns) + 2 and any(cell.strip() for cell in row[len(columns) + 2 :]):
            values = sum(1 for cell in cells if _count(cell)[0] is not None)
            report.reject("extra_cells", line, "", "", f"{len(row)} cells, the header has {len(header)}", values)
            continue
        date_cell, hour_cell = row[0].strip(), (row[1].strip() if len(row) > 1 else "")
        if not date_cell or date_cell.casefold() in TOTALS_WORDS:
            matches = all((_count(cell)[0] or 0) == total for cell, total in zip(cells, sums, strict=True))
            report.totals_rows.append((line, matches))
            continue
        day = _wide_date(date_cell)
        hour = int(hour_cell) if WHOLE.fullmatch(hour_cell) and len(hour_cell) <= 2 and int(hour_cell) < 24 else None
        start, reason, why = None, "", ""
        if day is None:
            reason, why = "bad_date", "not a date like 1-Jan-10 or 01/01/2019 (day first)"
        elif hour is None:
            reason, why = "bad_hour", "not an hour 0-23"
        else:
            start, reason = clock.local(datetime(day.year, day.month, day.day, hour), key=None)
            why = WHY.get(reason, "")
        valued = []
        for index, (name, cell) in enumerate(zip(columns, cells, strict=True)):
            count, marker, bad = _count(cell)
            if marker is not None:
                report.note_missing(name, marker)
            elif bad:
                report.reject(bad, line, name, cell, WHY[bad])
            else:
                sums[index] += count
                valued.append((index, count))
        if start is None:
            if valued:
                column, value = ("Date", date_cell) if reason == "bad_date" else ("Hour", hour_cell)
                report.reject(reason, line, column, value, f"{date_cell} {hour_cell}: {why}", cells=len(valued))
            continue
        for index, count in valued:
            if references[index] is None:
                report.note_unknown(columns[index])
            else:
                yield line, _record(references[index], start, count)


def _long_time(text: str) -> tuple[datetime | None, bool]:
    """(time, has an offset) or (None, False)."""
    try:
        moment = datetime.fromisoformat(text)
        return moment, moment.tzinfo is not None
    except ValueError:
        pass
    for pattern in LONG_TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern), False
        except ValueError:
            continue
    return None, False


def _long(header, rows, register: Register, report: Report) -> Iterator[tuple[int, dict]]:
    position = {}
    for index, name in enumerate(header):
        if _key(name) in LONG_COLUMNS:
            position.setdefault(_key(name), index)
        else:
            report.ignored_columns.append(name)
    named = {name: header[index] for name, index in position.items()}
    width = len(header)
    clock = _Clock()

    def cell(row, name):
        index = position.get(name)
        return row[index].strip() if index is not None else ""

    for line, row in rows:
        report.lines = line
        if not any(value.strip() for value in row):
            report.blank_rows += 1
            continue
        if len(row) < width:
            report.reject("short_row", line, "", "", _short(row, width))
            continue
        if len(row) > width:
            report.reject("extra_cells", line, "", "", f"{len(row)} cells, the header has {width}")
            continue
        sensor_id, sensor_name = cell(row, "sensor_id"), cell(row, "sensor_name")
        label = f"{sensor_id} {sensor_name}".strip() if sensor_id else sensor_name
        raw = cell(row, "hourly_counts")
        count, marker, bad = _count(raw)
        if marker is not None:
            report.note_missing(label, marker)
            continue
        if bad:
            report.reject(bad, line, named["hourly_counts"], raw, WHY[bad])
            continue
        reference = register.by_reference(sensor_id) if sensor_id else register.by_name(sensor_name)
        if reference is None:
            report.note_unknown(f"Sensor_ID {sensor_id}" if sensor_id else sensor_name or "(no sensor)")
            continue
        text = cell(row, "date_time")
        moment, aware = _long_time(text)
        column = named["date_time"]
        if moment is None:
            report.reject("bad_date", line, column, text, "not a time like 2019-11-01T17:00:00+11:00 or "
                          "November 01, 2019 05:00:00 PM")  # fmt: skip
            continue
        if (moment.minute, moment.second, moment.microsecond) != (0, 0, 0):
            report.reject("not_on_the_hour", line, column, text, "an hourly count starts on the hour")
            continue
        if aware:
            start = moment.astimezone(MELBOURNE)
        else:
            start, reason = clock.local(moment, key=reference)
            if start is None:
                report.reject(reason, line, column, text, WHY[reason])
                continue
        if mismatch := _disagrees(start, {name: cell(row, name) for name in ("year", "mdate", "time")}):
            report.reject("time_mismatch", line, named[mismatch], cell(row, mismatch),
                          f"disagrees with {column} {text} (Melbourne time {start:%Y-%m-%d %H:%M})")  # fmt: skip
            continue
        yield line, _record(reference, start, count)


def _disagrees(start: datetime, parts: dict[str, str]) -> str | None:
    """The first of Year, Mdate, Time whose number is not the local start's."""
    local = {"year": start.year, "mdate": start.day, "time": start.hour}
    for name, text in parts.items():
        if WHOLE.fullmatch(text) and int(text) != local[name]:
            return name
    return None
