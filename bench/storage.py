"""Storage benchmark: the reads the indicators and researchers make, and a retention run, at 10 million
records, each through the platform (HTTP through gunicorn, with the purpose guard and the access log, or the
platform's own retention code) against the plain SQL query that gives the same answer, in the same run.

Data: 300 LiDAR counters, 5-minute intervals, about 116 days (10 M records), 30 areas of 10 sensors placed
there (entering gates); the records stored through the platform's own datasets.storage.store() in-process, in
batches of 10,000 in a feed's order, so the sensor and area rollups are those ingest writes (`bench/run ingest`
measures ingest through HTTP).

Measured, p50 and p95 over --repeat requests each, through gunicorn (purpose guard, access log) against the
same answer from plain SQL through psycopg:
1. records page: a page of 1,000 records deep in the dataset (following `next` from the middle);
2. dataset + week: the first page of one week's records;
3. area-week at 15 minutes: one area's counts for 7 days in 15-minute buckets (672 cells);
4. all areas for a day: the 30 areas' hourly counts for one day (720 cells);
5. retention, one run each: a week inside the first month (deleted in key order), then the rest of that
   month (its partition dropped), against a plain DELETE of the same rows from a copy of the records.
Every answer is checked against SQL's (rows, order, cells, sums), and the area rollup against the records.

Run with `bench/run storage` (a throwaway PostgreSQL cluster); `--records 1000000` for a quick run.
"""

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crowd import AREAS, SENSORS, START, Client, percentiles, save_results, setup, sql_times  # noqa: E402  (sets up Django)
from django.db import connection  # noqa: E402
from ingest import start_server  # noqa: E402

from datasets import retention, storage  # noqa: E402
from datasets.models import Dataset  # noqa: E402

PURPOSE = "bench-storage"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


def weeks(end: datetime, n: int) -> list[datetime]:
    span_days = (end - START).days - 7
    return [START + timedelta(days=(i * 37) % span_days) for i in range(n)]


def run_reads(port: int, key: str, dataset: Dataset, areas: list[int], end: datetime, repeat: int) -> tuple:
    """The four reads through HTTP: (results, answers), the answers kept to compare with SQL's."""
    client = Client(port, key, PURPOSE)
    results, answers = {}, {}
    records_path = f"/api/v1/records/?dataset={dataset.pk}&page_size={PAGE}"

    # 1. records page: follow `next` from the first page at the middle of the time range (not timed).
    _, page = client.get(f"{records_path}&from={iso(middle(end))}")
    times, pages = [], []
    for _ in range(repeat):
        path = page["next"][page["next"].index("/api/") :]
        elapsed, page = client.get(path)
        times.append(elapsed)
        pages.append(page["results"])
    results["records_page"] = {"platform_ms": percentiles(times)}
    answers["records_page"] = pages

    # 2. dataset + week: the first page of each of `repeat` weeks.
    times, pages = [], []
    for week in weeks(end, repeat):
        elapsed, page = client.get(f"{records_path}&from={iso(week)}&to={iso(week + timedelta(days=7))}")
        times.append(elapsed)
        pages.append(page["results"])
    results["dataset_week"] = {"platform_ms": percentiles(times)}
    answers["dataset_week"] = pages

    # 3. area-week at 15 minutes: one area (the counts endpoint's `area`) for 7 days, 672 cells.
    times, cells = [], []
    for i, week in enumerate(weeks(end, repeat)):
        elapsed, page = client.get(
            f"/api/v1/aggregates/counts/?dataset={dataset.pk}&by=area&area={areas[i % len(areas)]}&bucket=15m"
            f"&from={iso(week)}&to={iso(week + timedelta(days=7))}&tz=UTC"
        )
        times.append(elapsed)
        cells.append(page["results"])
    results["area_week_15m"] = {"platform_ms": percentiles(times)}
    answers["area_week_15m"] = cells

    # 4. all areas for a day, hourly: 30 areas x 24 hours.
    times, cells = [], []
    for week in weeks(end, repeat):
        elapsed, page = client.get(
            f"/api/v1/aggregates/counts/?dataset={dataset.pk}&by=area&bucket=hour"
            f"&from={iso(week)}&to={iso(week + timedelta(days=1))}&tz=UTC"
        )
        times.append(elapsed)
        cells.append(page["results"])
    results["all_areas_day"] = {"platform_ms": percentiles(times)}
    answers["all_areas_day"] = cells
    return results, answers


def middle(end: datetime) -> datetime:
    return (START + (end - START) / 2).replace(minute=0, second=0, microsecond=0)


def run_baselines(dataset: Dataset, areas: list[int], end: datetime, repeat: int, results: dict) -> dict:
    """The same answers from plain SQL through psycopg, each the query a DBA would write on this schema:
    the same pages in the same order (observed_from, id), the same cells from the area rollup."""
    answers = {}
    # 1. The same pages as the platform followed: the first one (not timed), then `repeat` pages by keyset.
    with connection.cursor() as cursor:
        cursor.execute(RECORDS_FROM_SQL, [dataset.pk, middle(end), PAGE])
        after = cursor.fetchall()[-1]
    times, pages = [], []
    with connection.cursor() as cursor:
        for _ in range(repeat):
            started = time.perf_counter()
            cursor.execute(RECORDS_AFTER_SQL, [dataset.pk, after[3], after[3], after[0], PAGE + 1])
            rows = cursor.fetchall()
            times.append((time.perf_counter() - started) * 1000)
            pages.append(rows[:PAGE])
            after = rows[PAGE - 1]
    results["records_page"]["sql_ms"] = percentiles(times)
    answers["records_page"] = pages

    params = [[dataset.pk, week, week + timedelta(days=7), PAGE + 1] for week in weeks(end, repeat)]
    times, answers["dataset_week"] = sql_times(RECORDS_RANGE_SQL, params)
    results["dataset_week"]["sql_ms"] = percentiles(times)

    params = [[dataset.pk, areas[i % len(areas)], week, week + timedelta(days=7)] for i, week in
              enumerate(weeks(end, repeat))]  # fmt: skip
    times, answers["area_week_15m"] = sql_times(AREA_BUCKETS_SQL, params)
    results["area_week_15m"]["sql_ms"] = percentiles(times)

    params = [[dataset.pk, week, week + timedelta(days=1)] for week in weeks(end, repeat)]
    times, answers["all_areas_day"] = sql_times(ALL_AREAS_HOURS_SQL, params)
    results["all_areas_day"]["sql_ms"] = percentiles(times)
    return answers


PAGE = 1000
RECORD_COLUMNS = "id, sensor_id, series, observed_from, observed_to, count_in, count_out, count, gauge, data"
RECORDS_FROM_SQL = f"""
SELECT {RECORD_COLUMNS} FROM datasets_record WHERE dataset_id = %s AND observed_from >= %s
ORDER BY observed_from, id LIMIT %s
"""  # noqa: S608
RECORDS_AFTER_SQL = f"""
SELECT {RECORD_COLUMNS} FROM datasets_record
WHERE dataset_id = %s AND observed_from >= %s AND (observed_from, id) > (%s, %s) ORDER BY observed_from, id LIMIT %s
"""  # noqa: S608
RECORDS_RANGE_SQL = f"""
SELECT {RECORD_COLUMNS} FROM datasets_record WHERE dataset_id = %s AND observed_from >= %s AND observed_from < %s
ORDER BY observed_from, id LIMIT %s
"""  # noqa: S608
# The cells read the area rollup directly (the table the platform keeps at ingest).
AREA_BUCKETS_SQL = """
SELECT area_id, bucket, records, count_in, count_out FROM datasets_arearollup
WHERE dataset_id = %s AND area_id = %s AND bucket >= %s AND bucket < %s ORDER BY bucket
"""
ALL_AREAS_HOURS_SQL = """
SELECT area_id, date_trunc('hour', bucket) AS hour, sum(records), sum(count_in), sum(count_out)
FROM datasets_arearollup WHERE dataset_id = %s AND bucket >= %s AND bucket < %s GROUP BY 2, 1 ORDER BY 2, 1
"""
# The area rollup checked once against the records themselves (placements at the time, gates entering).
AREA_FROM_RECORDS_SQL = """
SELECT count(*), sum(r.count_in), sum(r.count_out) FROM datasets_record r
JOIN sensors_placement p ON p.sensor_id = r.sensor_id AND (p.starts_at IS NULL OR p.starts_at <= r.observed_from)
                         AND (p.ends_at IS NULL OR r.observed_from < p.ends_at)
WHERE r.dataset_id = %s AND p.area_id = %s AND r.observed_from >= %s AND r.observed_from < %s
"""


def check_answers(dataset: Dataset, areas: list[int], end: datetime, platform: dict, sql: dict) -> dict:
    """Every platform answer against SQL's: the same rows in the same order, the same cells with the same
    sums (where the platform did not suppress a count below k), and the expected number of cells; the area
    rollup against the records it came from. Returns what was checked."""
    checked = {"rows": 0, "cells": 0, "suppressed": 0}
    per_area = SENSORS // AREAS
    for name in ("records_page", "dataset_week"):
        for served, rows in zip(platform[name], sql[name], strict=True):
            rows = rows[:PAGE]
            assert len(served) == len(rows) == PAGE, (name, len(served), len(rows))
            for row, values in zip(served, rows, strict=True):
                _, sensor, _, observed_from, observed_to, count_in, count_out, *_ = values
                assert (row["sensor"], datetime.fromisoformat(row["observed_from"])) == (sensor, observed_from), name
                assert datetime.fromisoformat(row["observed_to"]) == observed_to, name
                if row["suppressed"]:
                    checked["suppressed"] += 1
                else:
                    assert (row["count_in"], row["count_out"]) == (count_in, count_out), (name, row, values)
            checked["rows"] += len(rows)
    for name, expected, minutes in (("area_week_15m", 7 * 96, 15), ("all_areas_day", 24 * AREAS, 60)):
        for served, rows in zip(platform[name], sql[name], strict=True):
            assert len(served) == len(rows) == expected, (name, len(served), len(rows))
            records = per_area * minutes // 5
            for cell, (area, bucket, n, count_in, count_out) in zip(served, rows, strict=True):
                assert (cell["area"], datetime.fromisoformat(cell["bucket"])) == (area, bucket), (name, cell)
                assert cell["records"] == n == records, (name, cell, n)
                assert cell["completeness"] == 1.0, (name, cell)
                if cell["suppressed"]:
                    checked["suppressed"] += 1
                else:
                    assert (cell["count_in"], cell["count_out"]) == (count_in, count_out), (name, cell)
            checked["cells"] += len(rows)
    # The area rollup, summed over a week, against the records of the sensors placed in the area.
    week = weeks(end, 1)[0]
    with connection.cursor() as cursor:
        for area in areas[:3]:
            cursor.execute(AREA_FROM_RECORDS_SQL, [dataset.pk, area, week, week + timedelta(days=7)])
            from_records = cursor.fetchone()
            cursor.execute(
                "SELECT sum(records), sum(count_in), sum(count_out) FROM datasets_arearollup "
                "WHERE dataset_id = %s AND area_id = %s AND bucket >= %s AND bucket < %s",
                [dataset.pk, area, week, week + timedelta(days=7)],
            )
            assert tuple(from_records) == tuple(cursor.fetchone()), (area, from_records)
            assert from_records[0] == per_area * 7 * 24 * 12, from_records
    return checked


def run_retention(dataset: Dataset, cutoff: datetime) -> dict:
    """Records before `cutoff` expire: the platform's retention run (datasets.retention: whole monthly
    partitions dropped, the rest deleted in the primary key's order, 10,000 at a time) against one plain
    DELETE of the same rows from a copy of the dataset's records with the same primary key (the copy made
    first, not timed)."""
    now = cutoff + timedelta(days=dataset.retention_days)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM datasets_record WHERE dataset_id = %s AND observed_from < %s",
                       [dataset.pk, cutoff])  # fmt: skip
        expiring = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM datasets_record WHERE dataset_id = %s", [dataset.pk])
        held = cursor.fetchone()[0]
        cursor.execute("DROP TABLE IF EXISTS bench_retention")
        cursor.execute(
            "CREATE TABLE bench_retention AS SELECT * FROM datasets_record WHERE dataset_id = %s", [dataset.pk]
        )
        cursor.execute("ALTER TABLE bench_retention ADD PRIMARY KEY (dataset_id, observed_from, id)")
        cursor.execute("VACUUM ANALYZE bench_retention")
        started = time.perf_counter()
        cursor.execute("DELETE FROM bench_retention WHERE dataset_id = %s AND observed_from < %s", [dataset.pk, cutoff])
        sql_seconds = time.perf_counter() - started
        deleted_sql = cursor.rowcount
        cursor.execute("DROP TABLE bench_retention")
    started = time.perf_counter()
    run = retention.dataset_retention_enforce(dataset=dataset, now=now)
    platform_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), min(observed_from) FROM datasets_record WHERE dataset_id = %s", [dataset.pk])
        left, first = cursor.fetchone()
    assert run.records_deleted == deleted_sql == expiring == held - left, (run.records_deleted, deleted_sql, expiring)
    assert first is None or first >= cutoff, first
    # What one coverage refresh (datasets.storage, after records went) costs on what is left: the run makes
    # one, or two when it dropped partitions.
    started = time.perf_counter()
    storage.coverage_refresh(dataset.pk)
    refresh_seconds = time.perf_counter() - started
    dropped = [entry["partition"] for entry in run.partitions_dropped]
    return {
        "cutoff": cutoff.isoformat(),
        "records_expired": expiring,
        "partitions_dropped": dropped,
        "platform_s": round(platform_seconds, 3),
        "sql_delete_s": round(sql_seconds, 3),
        "ratio": round(sql_seconds / platform_seconds, 2),
        "one_coverage_refresh_s": round(refresh_seconds, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()

    print(f"{args.records:,} records, {SENSORS} sensors in {AREAS} areas, 5-minute intervals")
    dataset, key, areas, end = setup(args.records, "storage", PURPOSE, ["records", "aggregate"])
    connection.close()
    server = start_server(args.port, args.workers)
    try:
        results, served = run_reads(args.port, key, dataset, areas, end, args.repeat)
    finally:
        server.terminate()
        server.wait(timeout=30)
    answers = run_baselines(dataset, areas, end, args.repeat, results)
    results["checked"] = check_answers(dataset, areas, end, served, answers)
    print(f"answers checked against SQL: {results['checked']}")
    # A week inside the first month (deleted in key order), then the rest of that month (its partition dropped).
    results["retention"] = [
        run_retention(dataset, START + timedelta(days=7)),
        run_retention(dataset, datetime(START.year, START.month + 1, 1, tzinfo=UTC)),
    ]

    print(f"\n{'read':<24}{'platform p50':>14}{'p95':>9}{'SQL p50':>10}{'p95':>9}{'ratio p50':>11}")
    for name in ("records_page", "dataset_week", "area_week_15m", "all_areas_day"):
        platform, sql = results[name]["platform_ms"], results[name]["sql_ms"]
        results[name]["ratio_p50"] = round(sql["p50"] / platform["p50"], 3)
        print(f"{name:<24}{platform['p50']:>12.1f}ms{platform['p95']:>7.1f}ms{sql['p50']:>8.1f}ms"
              f"{sql['p95']:>7.1f}ms{results[name]['ratio_p50']:>11.3f}")  # fmt: skip
    for r in results["retention"]:
        how = f"partitions dropped: {', '.join(r['partitions_dropped'])}" if r["partitions_dropped"] else "key order"
        print(f"retention before {r['cutoff'][:10]} ({r['records_expired']:,} records, {how}): platform "
              f"{r['platform_s']:.2f} s, plain DELETE {r['sql_delete_s']:.2f} s (ratio {r['ratio']:.2f}); "
              f"one coverage refresh alone {r['one_coverage_refresh_s']:.2f} s")  # fmt: skip
    results["records"] = args.records
    save_results("storage", results)


if __name__ == "__main__":
    main()
