"""Indicators benchmark: the values endpoint (`GET /api/v1/indicators/{code}/values/`) at 10 million records,
through HTTP with the purpose guard and the access log, against plain SQL GROUP BY over the records table with
a covering index, giving the same answers, in the same run.

Data (bench/crowd.py): 300 LiDAR counters at 5-minute intervals for about 116 days (10 M records), 30 areas
of 10 sensors (entering gates), stored through datasets.storage.store(), so the area rollups the endpoint
reads are the platform's own.

Measured, p50 and p95 over --repeat requests each (different windows and areas), through gunicorn, each
request followed by the same question in plain SQL through psycopg:
  Q1 `count`, one area, 1 week, 15-minute buckets (672 cells)       target p95 < 10 ms
  Q2 `count`, one area, 1 month, hourly (about 720 cells)          target p95 < 15 ms
  Q3 `count`, all 30 areas, 1 day, hourly (720 cells)              target p95 < 25 ms
and, without a SQL baseline, Q1 for `busyness` (against the previous 4 weeks) and `occupancy`. Buckets are
aligned in Europe/Amsterdam; the windows start at local midnight, and the days include the 23-hour day of
2025-03-30. The SQL joins each sensor's placement in the area in force at the record's time (the gate
direction applied) to the records, read by an index-only scan of the covering index the benchmark creates:
(dataset_id, sensor_id, observed_from) INCLUDE (count_in, count_out).

Every count cell is checked against SQL's: the area, start and end, the observations (records), and
value = in + out with details {in, out}, unless suppressed below k; empty buckets must be `no_data`.
`--profile` then runs the asks again in the process (Django's test client, as the server runs them) and says
where their time goes: each part of the request (PHASES), the SQL statements, and the Python functions that
take the most time of their own (cProfile).

Run with `bench/run indicators` (a throwaway cluster) or `BENCH_KEEP=/tmp/dir bench/run indicators` (the
cluster and its data kept for the next run); `--records 200000` for a quick run.
"""

import argparse
import calendar
import cProfile
import io
import os
import pstats
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crowd import AREAS, SENSORS, START, Client, percentiles, save_results, setup  # noqa: E402  (sets up Django)
from django.db import connection  # noqa: E402
from ingest import start_server  # noqa: E402

from datasets.models import Dataset  # noqa: E402

PURPOSE = "bench-indicators"
TZ = "Europe/Amsterdam"
LOCAL = ZoneInfo(TZ)
BASELINE_WEEKS = 4  # busyness compares with the previous 4 weeks: the windows start after them
TARGETS_MS = {"Q1": 10, "Q2": 15, "Q3": 25}
BUCKETS = {"15m": timedelta(minutes=15), "1h": timedelta(hours=1)}
SHORT_DAY = datetime(2025, 3, 30, tzinfo=LOCAL)  # 23 hours in Europe/Amsterdam

COVERING_INDEX = "bench_record_sensor_time_counts"
CREATE_COVERING_INDEX = f"""
CREATE INDEX IF NOT EXISTS {COVERING_INDEX} ON datasets_record (dataset_id, sensor_id, observed_from)
INCLUDE (count_in, count_out)
"""
# The same cells from the records: each record counts in the area of its sensor's placement in force at its
# observed_from, in and out swapped by a leaving gate (an `inside` placement has no in/out), grouped by the
# bucket: 15 minutes (aligned on the UTC quarter hours, which are the quarter hours of every time zone whose
# offset is a multiple of 15 minutes, Europe/Amsterdam's included) or the hour of the requested time zone.
CELLS_SQL = """
SELECT p.area_id, {bucket} AS start, count(*) AS observations,
       sum(CASE p.direction WHEN 'enters' THEN r.count_in WHEN 'leaves' THEN r.count_out END) AS count_in,
       sum(CASE p.direction WHEN 'enters' THEN r.count_out WHEN 'leaves' THEN r.count_in END) AS count_out
FROM sensors_placement p
JOIN datasets_record r
  ON r.dataset_id = %(dataset)s AND r.sensor_id = p.sensor_id
 AND r.observed_from >= %(from)s AND r.observed_from < %(to)s
 AND (p.starts_at IS NULL OR p.starts_at <= r.observed_from) AND (p.ends_at IS NULL OR r.observed_from < p.ends_at)
WHERE p.area_id = ANY(%(areas)s)
GROUP BY 1, 2 ORDER BY 1, 2
"""
BUCKET_SQL = {
    "15m": "date_bin('15 minutes', r.observed_from, timestamptz '2000-01-01 00:00+00')",
    "1h": "date_trunc('hour', r.observed_from, %(tz)s)",
}


# Enough memory for all areas' day (86,400 records) to be grouped in memory rather than sorted on disk.
WORK_MEM = "SET work_mem = '64MB'"


def cells_sql(bucket: str) -> str:
    return CELLS_SQL.format(bucket=BUCKET_SQL[bucket])


# The questions --------------------------------------------------------------------------------


def local_days(end: datetime, length, skip_days: int) -> list[datetime]:
    """Local midnights d, `skip_days` after the first one of the data, whose window [d, length(d)) ends within
    the data; when the data is too short for any (a quick run), the first local midnight alone."""
    first = datetime.combine(START.astimezone(LOCAL).date() + timedelta(days=1), datetime.min.time(), LOCAL)
    day, days = first + timedelta(days=skip_days), []
    while length(day) <= end:
        days.append(day)
        day += timedelta(days=1)  # wall-clock arithmetic: the next local midnight, across DST changes
    return days or [first]


def spread(days: list[datetime], n: int, must: datetime | None = None) -> list[datetime]:
    """n of `days`, spread over them (stepping by 37 days), with `must` among them when it is one of the days."""
    chosen = [days[(i * 37) % len(days)] for i in range(n)]
    if must in days and must not in chosen:
        chosen[-1] = must
    return chosen


def next_month(day: datetime) -> datetime:
    """The same local time a month later (the last day of a shorter month)."""
    year, month = day.year + day.month // 12, day.month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def hours_between(start: datetime, stop: datetime) -> timedelta:
    """The time elapsed (Python subtracts two times of the same zone on the wall clock: 24 h over a 23-hour day)."""
    return stop.astimezone(UTC) - start.astimezone(UTC)


def questions(dataset: Dataset, areas: list[int], end: datetime, repeat: int) -> dict[str, list[dict]]:
    """Per question, `repeat` asks: the area(s), the window and the bucket."""
    week = local_days(end, lambda d: d + timedelta(days=7), 7 * BASELINE_WEEKS)
    month = local_days(end, next_month, 0)
    day = local_days(end, lambda d: d + timedelta(days=1), 0)
    asks = {
        "Q1": [(areas[i % len(areas)], d, d + timedelta(days=7), "15m") for i, d in enumerate(spread(week, repeat))],
        "Q2": [(areas[(i * 7) % len(areas)], d, next_month(d), "1h") for i, d in enumerate(spread(month, repeat))],
        "Q3": [(None, d, d + timedelta(days=1), "1h") for d in spread(day, repeat, SHORT_DAY)],
    }
    return {
        name: [
            {"dataset": dataset.pk, "area": area, "areas": [area] if area else areas, "from": start, "to": stop,
             "bucket": bucket}
            for area, start, stop, bucket in items
        ]
        for name, items in asks.items()
    }  # fmt: skip


def path(code: str, ask: dict) -> str:
    query = {"dataset": ask["dataset"]}
    if ask["area"]:
        query["area"] = ask["area"]
    query.update(from_=ask["from"].isoformat(), to=ask["to"].isoformat(), bucket=ask["bucket"], tz=TZ)
    return f"/api/v1/indicators/{code}/values/?" + urlencode(query).replace("from_=", "from=")


def sql_params(ask: dict) -> dict:
    return {"dataset": ask["dataset"], "areas": ask["areas"], "from": ask["from"], "to": ask["to"], "tz": TZ}


# Timing ---------------------------------------------------------------------------------------


def run_questions(port: int, key: str, asks: dict, warm: int) -> tuple[dict, dict]:
    """Each ask through HTTP, then the same in SQL (interleaved, so both meet the same load on the machine);
    `warm` asks of each kind first, not timed. Returns the times (ms) and the answers to check."""
    client = Client(port, key, PURPOSE)
    times = {name: {"platform": [], "sql": []} for name in asks}
    answers = {name: [] for name in asks}
    with connection.cursor() as cursor:
        cursor.execute(WORK_MEM)
        for name, items in asks.items():
            statement = cells_sql(items[0]["bucket"])
            for ask in items[:warm]:
                client.get(path("count", ask))
                cursor.execute(statement, sql_params(ask))
                cursor.fetchall()
            for ask in items:
                elapsed, served = client.get(path("count", ask))
                times[name]["platform"].append(elapsed)
                started = time.perf_counter()
                cursor.execute(statement, sql_params(ask))
                rows = cursor.fetchall()
                times[name]["sql"].append((time.perf_counter() - started) * 1000)
                answers[name].append((ask, served, rows))
    return times, answers


def run_extras(port: int, key: str, asks: list[dict], warm: int) -> tuple[dict, list]:
    """Q1 for busyness and occupancy (no SQL baseline): times and answers."""
    client = Client(port, key, PURPOSE)
    times, answers = {}, []
    for code in ("busyness", "occupancy"):
        for ask in asks[:warm]:
            client.get(path(code, ask))
        times[code] = []
        for ask in asks:
            elapsed, served = client.get(path(code, ask))
            times[code].append(elapsed)
            answers.append((code, ask, served))
    return times, answers


# Checking -------------------------------------------------------------------------------------


def check(answers: dict, extras: list) -> dict:
    """Every count cell against SQL's; the number of cells of every answer; busyness's count against count's."""
    checked = {"cells": 0, "with_data": 0, "suppressed": 0, "no_data": 0, "incomplete": 0}
    counts = {}
    for name, items in answers.items():
        for ask, served, rows in items:
            sql = {(area, start): (n, c_in, c_out) for area, start, n, c_in, c_out in rows}
            cells = served["results"]
            step = BUCKETS[ask["bucket"]]
            expected = len(ask["areas"]) * (hours_between(ask["from"], ask["to"]) // step)
            assert len(cells) == expected, (name, ask, len(cells), expected)
            assert served["indicator"] == "count" and served["bucket"] == ask["bucket"], (name, served["bucket"])
            seen = set()
            for cell in cells:
                start, stop = datetime.fromisoformat(cell["start"]), datetime.fromisoformat(cell["end"])
                key = (cell["area"], start)
                assert cell["area"] in ask["areas"] and ask["from"] <= start and stop - start == step, (name, cell)
                assert stop <= ask["to"] and key not in seen, (name, cell)
                seen.add(key)
                checked["cells"] += 1
                flags = cell["flags"]
                checked["incomplete"] += "incomplete" in flags
                if key not in sql:
                    assert cell["observations"] == 0 and "no_data" in flags and cell["value"] is None, (name, cell)
                    checked["no_data"] += 1
                    continue
                n, c_in, c_out = sql.pop(key)
                assert cell["observations"] == n, (name, cell, n)
                checked["with_data"] += 1
                if "suppressed" in flags:
                    assert cell["value"] is None and cell["details"] is None, (name, cell)
                    checked["suppressed"] += 1
                    continue
                assert cell["value"] == c_in + c_out, (name, cell, c_in, c_out)
                assert (cell["details"]["in"], cell["details"]["out"]) == (c_in, c_out), (name, cell)
                counts[(ask["bucket"], cell["area"], start)] = cell["value"]
            assert not sql, (name, ask, f"{len(sql)} SQL cells the platform did not serve", next(iter(sql)))
    checked["extra_cells"] = 0
    for code, ask, served in extras:
        cells = served["results"]
        assert (
            served["indicator"] == code
            and len(cells) == hours_between(ask["from"], ask["to"]) // BUCKETS[ask["bucket"]]
        ), code
        for cell in cells:
            checked["extra_cells"] += 1
            count = (cell.get("details") or {}).get("count")
            known = counts.get((ask["bucket"], cell["area"], datetime.fromisoformat(cell["start"])))
            if code == "busyness" and count is not None and known is not None:
                assert count == known, (code, cell, known)
    return checked


# Where the time goes ----------------------------------------------------------------------------


class Statements:
    """Django's execute wrapper: each SQL statement's time, by its first words."""

    def __init__(self):
        self.times = defaultdict(list)

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.times[" ".join(sql.split()[:8])[:100]].append((time.perf_counter() - started) * 1000)


# The parts of a values request, timed by wrapping them in the process: (label, module, class or None, name).
# Nested parts are inside the ones above them (`get()` holds the values; the values hold the read and the cells).
PHASES = [
    ("authentication (API key)", "datasets.api.indicators", "IndicatorValuesView", "perform_authentication"),
    ("throttling", "datasets.api.indicators", "IndicatorValuesView", "check_throttles"),
    ("guard: query parsing (guard_target)", "datasets.api.indicators", "IndicatorValuesView", "guard_target"),
    ("guard: decision (access_decide)", "purposes.services", None, "access_decide"),
    ("view get(), all of it", "datasets.api.indicators", "IndicatorValuesView", "get"),
    ("  get: the dataset's areas", "datasets.indicators.values", None, "dataset_areas"),
    ("  get: bucket finer than the data?", "datasets.selectors", None, "bucket_finer_than_data"),
    ("  get: indicator_values, all of it", "datasets.indicators.values", None, "indicator_values"),
    ("    values: read the rollups (SQL, rows)", "datasets.indicators.values", None, "read_series"),
    ("    values: build the cells (Python)", "datasets.indicators.values", "CellBuilder", "entity_cells"),
    ("access log: append", "api.guard", None, "access_event_append"),
    ("rendering JSON", "api.renderers", "FastJSONRenderer", "render"),
]


class Phases:
    """Wraps each part in PHASES with a timer while in use: `ms[label]` and `cpu[label]` hold the request's wall
    time and this process's CPU time in the part (ms). On a shared machine the CPU time is the steadier figure;
    the wall time adds the waits for PostgreSQL and for a core."""

    def __init__(self):
        self.ms, self.cpu = defaultdict(float), defaultdict(float)
        self.missing, self._undo = [], []

    def __enter__(self):
        import importlib  # noqa: PLC0415

        for label, module, owner, name in PHASES:
            target = importlib.import_module(module)
            target = getattr(target, owner) if owner else target
            original = getattr(target, name, None)
            if original is None:
                self.missing.append(label)
                continue
            self._undo.append((target, name, target.__dict__.get(name)))
            setattr(target, name, self._timed(label, original))
        return self

    def _timed(self, label, original):
        def timed(*args, **kwargs):
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.ms[label] += (time.perf_counter() - started) * 1000
                self.cpu[label] += (time.process_time() - cpu) * 1000

        return timed

    def __exit__(self, *exc):
        for target, name, original in reversed(self._undo):
            if original is None:
                delattr(target, name)
            else:
                setattr(target, name, original)


PROFILED = [("Q1", "count"), ("Q2", "count"), ("Q3", "count"), ("Q1", "busyness"), ("Q1", "occupancy")]


def profile(key: str, asks: list[dict], code: str = "count") -> dict:
    """The asks in this process through Django's test client (the whole stack but gunicorn and the socket): the
    request's time, each part's (PHASES), the SQL by statement, and cProfile's top functions."""
    from django.test import Client as TestClient  # noqa: PLC0415 (only with --profile)

    client = TestClient(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_X_PURPOSE=PURPOSE)
    for ask in asks[:3]:
        assert client.get(path(code, ask)).status_code == 200
    statements, request_ms, cpu_ms, parts, parts_cpu = Statements(), [], [], defaultdict(list), defaultdict(list)
    with connection.execute_wrapper(statements), Phases() as phases:
        for ask in asks:
            phases.ms.clear()
            phases.cpu.clear()
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(path(code, ask))
            request_ms.append((time.perf_counter() - started) * 1000)
            cpu_ms.append((time.process_time() - cpu) * 1000)
            assert response.status_code == 200, response.content[:400]
            for label, ms in phases.ms.items():
                parts[label].append(ms)
                parts_cpu[label].append(phases.cpu[label])
    n = len(asks)
    sql = {
        statement: {"per_request": round(len(ms) / n, 2), "ms_per_request": round(sum(ms) / n, 3)}
        for statement, ms in sorted(statements.times.items(), key=lambda item: -sum(item[1]))
    }
    profiler = cProfile.Profile()
    profiler.enable()
    for ask in asks:
        client.get(path(code, ask))
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    return {
        "request_ms": percentiles(request_ms),
        "python_cpu_ms": percentiles(cpu_ms),
        "parts_ms": {label: percentiles(parts[label]) for label, *_ in PHASES if label in parts},
        "parts_cpu_ms": {label: percentiles(parts_cpu[label]) for label, *_ in PHASES if label in parts},
        "parts_missing": phases.missing,
        "sql_ms_per_request": round(sum(sum(ms) for ms in statements.times.values()) / n, 3),
        "sql": sql,
        "profile": out.getvalue(),
        "requests": n,
    }


def print_profile(label: str, found: dict) -> None:
    print(f"\n{label} in the process, {found['requests']} requests: p50 {found['request_ms']['p50']} ms, p95 "
          f"{found['request_ms']['p95']} ms, of which this process's CPU p50 {found['python_cpu_ms']['p50']} ms; "
          "the parts (wall p50, p95, CPU p50 ms):")  # fmt: skip
    for label, figures in found["parts_ms"].items():
        cpu = found["parts_cpu_ms"][label]["p50"]
        print(f"  {label:<44}{figures['p50']:>8.2f}{figures['p95']:>8.2f}{cpu:>8.2f}")
    if found["parts_missing"]:
        print(f"  (not found, not timed: {', '.join(found['parts_missing'])})")
    print(f"SQL, {found['sql_ms_per_request']} ms per request in all (mean):")
    for statement, figures in found["sql"].items():
        print(f"  {figures['ms_per_request']:>8.3f} ms {figures['per_request']:>5} x  {statement}")
    print(found["profile"])


def print_cpu_table(results: dict) -> None:
    """The parts' CPU time (p50, ms) of every profiled question, as a Markdown table (bench/README.md)."""
    found = [results[f"profile_{name}_{code}"] for name, code in PROFILED]
    print("\n| part (CPU ms, p50) | " + " | ".join(f"{name} {code}" for name, code in PROFILED) + " |")
    print("| --- |" + " ---: |" * len(PROFILED))
    for label, *_ in PHASES:
        cells = [f"{f['parts_cpu_ms'][label]['p50']:.1f}" if label in f["parts_cpu_ms"] else "" for f in found]
        depth = (len(label) - len(label.lstrip())) // 2  # a part inside the part above it
        print(f"| {'· ' * depth}{label.strip()} | " + " | ".join(cells) + " |")
    print("| the whole request | " + " | ".join(f"{f['python_cpu_ms']['p50']:.1f}" for f in found) + " |")
    print("| SQL, all statements (wall, mean) | " + " | ".join(f"{f['sql_ms_per_request']:.1f}" for f in found) + " |")


# Main -----------------------------------------------------------------------------------------


def covering_index() -> float:
    """The baseline's covering index (made once; kept in a kept cluster), VACUUM ANALYZE for index-only scans:
    the seconds it took."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(CREATE_COVERING_INDEX)
        cursor.execute("VACUUM ANALYZE datasets_record")
    return time.perf_counter() - started


def explain(ask: dict) -> str:
    with connection.cursor() as cursor:
        cursor.execute(WORK_MEM)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + cells_sql(ask["bucket"]), sql_params(ask))
        return "\n".join(row[0] for row in cursor.fetchall())


def line(label: str, platform: dict, sql: dict | None, target: float | None) -> str:
    text = f"{label:<34}{platform['p50']:>9.2f}{platform['p95']:>9.2f}"
    if sql:
        text += f"{sql['p50']:>9.2f}{sql['p95']:>9.2f}{platform['p95'] / sql['p95']:>8.1f}x"
    else:
        text += f"{'':>9}{'':>9}{'':>9}"
    if target:
        text += f"   p95 < {target} ms: {'yes' if platform['p95'] < target else 'NO'}"
    return text


def run_timing(args, key: str, asks: dict, results: dict) -> None:
    """The questions through HTTP and in SQL, checked against each other; the figures printed and kept."""
    print("Q1's SQL, explained:\n" + explain(asks["Q1"][0]))
    connection.close()
    server = start_server(args.port, args.workers)
    load = [os.getloadavg()[0]]  # the machine is shared: how busy it was around the timing
    try:
        times, answers = run_questions(args.port, key, asks, args.warm)
        extra_times, extras = run_extras(args.port, key, asks["Q1"], args.warm)
    finally:
        server.terminate()
        server.wait(timeout=30)
    load.append(os.getloadavg()[0])
    checked = check(answers, extras)
    print(f"answers checked against SQL: {checked}")

    results.update(checked=checked, load_average=load)
    print(f"load average (1 minute) before and after the timing: {load[0]:.1f}, {load[1]:.1f} ({os.cpu_count()} cores)")
    print(f"\n{'ms':<34}{'HTTP p50':>9}{'p95':>9}{'SQL p50':>9}{'p95':>9}{'p95 x':>9}")
    labels = {
        "Q1": "Q1 count, 1 area, week, 15m",
        "Q2": "Q2 count, 1 area, month, 1h",
        "Q3": "Q3 count, 30 areas, day, 1h",
    }
    for name, label in labels.items():
        platform, sql = percentiles(times[name]["platform"]), percentiles(times[name]["sql"])
        results[name] = {"platform_ms": platform, "sql_ms": sql, "target_p95_ms": TARGETS_MS[name],
                         "ratio_p50": round(platform["p50"] / sql["p50"], 2),
                         "ratio_p95": round(platform["p95"] / sql["p95"], 2)}  # fmt: skip
        print(line(label, platform, sql, TARGETS_MS[name]))
    for code in ("busyness", "occupancy"):
        results[f"Q1_{code}"] = {"platform_ms": percentiles(extra_times[code])}
        print(line(f"Q1 {code} (no SQL baseline)", results[f"Q1_{code}"]["platform_ms"], None, None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--warm", type=int, default=3, help="untimed asks of each kind first")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--profile", action="store_true", help="then say where the time goes, in the process")
    parser.add_argument("--profile-only", action="store_true", help="only that: no server, no SQL baseline")
    args = parser.parse_args()

    print(f"{args.records:,} records, {SENSORS} sensors in {AREAS} areas, 5-minute intervals, buckets in {TZ}")
    dataset, key, areas, end = setup(args.records, "indicators", PURPOSE, ["aggregate"])
    index_seconds = covering_index()
    print(f"  covering index and VACUUM ANALYZE: {index_seconds:.1f} s")
    asks = questions(dataset, areas, end, args.repeat)
    results = {"records": args.records, "repeat": args.repeat, "tz": TZ}
    if not args.profile_only:
        run_timing(args, key, asks, results)
    if args.profile or args.profile_only:
        for name, code in PROFILED:
            found = profile(key, asks[name], code)
            results[f"profile_{name}_{code}"] = {k: v for k, v in found.items() if k != "profile"}
            print_profile(f"{name} {code}", found)
        print_cpu_table(results)

    save_results("indicators", results)


if __name__ == "__main__":
    main()
