"""Storage figures for docs/scaling.md: bytes per record (table and indexes, rollups included) of the layout in
this checkout, measured over a known number of records sent through the platform's own ingest.

Run with `bench/run sizes [--sensors 50] [--days 31] [--interval 5] [--per-area 10]` (a throwaway PostgreSQL
cluster unless DATABASE_URL is set). It places the sensors in areas of --per-area, ingests sensors x days x
(1440 / interval) records of one month into a new dataset (records, sensor and area rollups), VACUUMs, and
reports, for every table with a dataset_id (a partitioned table with all its partitions): bytes per record of
heap (with TOAST) and of indexes; then rows per sensor per month and year at 1, 5 and 15 minutes, and the
partitions of the records table. Writes bench/results/sizes-<time>.json.
"""

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT), str(PROJECT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import Organisation, Role  # noqa: E402
from accounts.selectors import Caller  # noqa: E402
from datasets import services  # noqa: E402
from datasets.models import Dataset, Record, SchemaVersion  # noqa: E402
from sensors.models import Area, Placement, Sensor, SensorType  # noqa: E402
from sensors.services import area_facts  # noqa: E402

START = datetime(2025, 3, 1, tzinfo=UTC)  # a 31-day month
BATCH = 10_000
DAYS_PER_MONTH = 365.25 / 12


def setup(sensors: int) -> tuple[Organisation, Dataset]:
    call_command("migrate", verbosity=0)
    city, _ = Organisation.objects.get_or_create(
        slug="sizes-city", defaults={"name": "Sizes City", "kind": "municipality"}
    )
    Record.objects.unguarded("integrity").filter(dataset__owner=city).delete()
    Dataset.objects.filter(owner=city).delete()
    Sensor.objects.filter(controller=city).delete()
    lidar = SensorType.objects.get(code="lidar-counter")
    created = Sensor.objects.bulk_create(
        Sensor(controller=city, operator=city, sensor_type=lidar, reference=f"sizes-{n:04d}", name=f"sizes {n}",
               latitude=52.0 + n / 10_000, longitude=5.0, personal_data_at_edge=False, status="active",
               installed_at=datetime(2024, 1, 1, tzinfo=UTC))
        for n in range(sensors)
    )  # fmt: skip
    dataset = Dataset.objects.create(
        owner=city,
        schema_version=SchemaVersion.objects.get(schema__code="crowd-count-line", version="1.0.0"),
        title="sizes dataset",
        description="Storage figures",
        contact_point="bench@example.org",
        access="restricted",
        status="active",
    )
    dataset.sensors.set(created)
    return city, dataset


def place(city: Organisation, dataset: Dataset, per_area: int) -> int:
    """Areas of `per_area` sensors each (sensor n stands at latitude 52 + n / 10,000), every sensor placed
    (an entering gate), so that ingest keeps the area rollup too. Returns the number of areas."""
    Placement.objects.filter(sensor__controller=city).delete()
    Area.objects.filter(owner=city).delete()
    sensors = list(Sensor.objects.filter(controller=city).order_by("reference"))
    groups = [sensors[i : i + per_area] for i in range(0, len(sensors), per_area)]
    for j, members in enumerate(groups):
        south, north = 52.0 + (per_area * j - 0.5) / 10_000, 52.0 + (per_area * (j + 1) - 0.5) / 10_000
        ring = [[4.999, south], [5.001, south], [5.001, north], [4.999, north], [4.999, south]]
        geometry = {"type": "Polygon", "coordinates": [ring]}
        area = Area.objects.create(
            owner=city, name=f"Sizes area {j}", area_type="walkway", geometry=geometry, **area_facts(geometry)
        )
        Placement.objects.bulk_create(Placement(sensor=s, area=area, direction="enters") for s in members)
        dataset.areas.add(area)
    return len(groups)


def data_tables() -> list[str]:
    """Tables with a dataset_id column (partitions counted with their parent)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'dataset_id' "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1"
        )
        return [name for (name,) in cursor.fetchall()]


def sizes(table: str) -> dict:
    """Heap (with TOAST) and index bytes of a table and, when partitioned, all its partitions; partition count."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_table_size(relid)), 0), coalesce(sum(pg_indexes_size(relid)), 0), "
            "count(*) FILTER (WHERE level > 0 AND isleaf) FROM (SELECT relid, level, isleaf FROM "
            "pg_partition_tree(%s::regclass) UNION SELECT %s::regclass, 0, true) AS tree",
            [table, table],
        )
        heap, indexes, partitions = cursor.fetchone()
    return {"heap": int(heap), "indexes": int(indexes), "partitions": partitions}


def ingest(city: Organisation, dataset: Dataset, sensors: int, days: int, interval: int) -> int:
    caller = Caller(roles={city.pk: Role.INTEGRATOR})
    slots = days * 1440 // interval
    total, batch = 0, []
    for slot in range(slots):
        start = START + timedelta(minutes=interval * slot)
        end = (start + timedelta(minutes=interval)).isoformat()
        for n in range(sensors):
            batch.append({"sensor": f"sizes-{n:04d}", "observed_from": start.isoformat(), "observed_to": end,
                          "count_in": (slot * 7 + n) % 50, "count_out": (slot * 3 + n) % 40})  # fmt: skip
            if len(batch) == BATCH:
                total += len(batch)
                services.records_ingest(caller=caller, dataset=dataset, body=orjson.dumps({"records": batch}),
                                        content_type="application/json")  # fmt: skip
                batch = []
    if batch:
        total += len(batch)
        services.records_ingest(
            caller=caller, dataset=dataset, body=orjson.dumps({"records": batch}), content_type="application/json"
        )
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sensors", type=int, default=50)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--interval", type=int, default=5, help="minutes between a sensor's records")
    parser.add_argument("--per-area", type=int, default=10, help="sensors placed in each area")
    args = parser.parse_args()
    city, dataset = setup(args.sensors)
    areas = place(city, dataset, args.per_area)
    tables = data_tables()
    with connection.cursor() as cursor:
        # Rows of an earlier run are gone: give their space back, so that what grows is this run's.
        cursor.execute(f"VACUUM FULL ANALYZE {', '.join(tables)}")
    before = {table: sizes(table) for table in tables}
    began = time.perf_counter()
    records = ingest(city, dataset, args.sensors, args.days, args.interval)
    seconds = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}")
    after = {table: sizes(table) for table in tables}
    grown = {}
    for table in tables:
        heap = after[table]["heap"] - before[table]["heap"]
        indexes = after[table]["indexes"] - before[table]["indexes"]
        if heap or indexes:
            grown[table] = {
                "heap_bytes_per_record": round(heap / records, 1),
                "index_bytes_per_record": round(indexes / records, 1),
                "total_bytes_per_record": round((heap + indexes) / records, 1),
                "partitions": after[table]["partitions"],
            }
    result = {
        "records": records,
        "sensors": args.sensors,
        "days": args.days,
        "interval_minutes": args.interval,
        "areas": areas,
        "sensors_per_area": args.per_area,
        "ingest_seconds": round(seconds, 1),
        "tables": grown,
        "bytes_per_record_all_tables": round(sum(t["total_bytes_per_record"] for t in grown.values()), 1),
        "rows_per_sensor": {
            f"{minutes} min": {"month": round(DAYS_PER_MONTH * 1440 / minutes), "year": round(365 * 1440 / minutes)}
            for minutes in (1, 5, 15)
        },
    }
    print(json.dumps(result, indent=2))
    out = PROJECT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"sizes-{datetime.now(UTC):%Y%m%dT%H%M%S}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
