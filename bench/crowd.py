"""The crowd-count data the read benchmarks share (bench/storage.py, bench/indicators.py), and their timing
helpers.

300 LiDAR counters at 5-minute intervals from 2025-01-01 UTC (10 M records: about 116 days), placed 10 to an
area in 30 areas (entering gates), so the area rollups fill. The records go in through the platform's own
datasets.storage.store() in-process, in batches of 10,000 in a feed's order (time, then sensor), one
transaction each: records, sensor rollups and area rollups as ingest writes them. A benchmark's organisation
owns one such dataset; a second run against the same database (a kept cluster: `BENCH_KEEP=DIR bench/run ...`)
finds it and skips the load.
"""

import http.client
import json
import statistics
import time
from datetime import UTC, datetime, timedelta

from django.core.management import call_command
from django.db import connection, transaction
from ingest import PROJECT, bench_dataset, bench_purpose  # sets up Django

from accounts import services as accounts_services
from accounts.models import Organisation, Role
from datasets import partitions, storage
from datasets.models import Dataset
from datasets.records import Row
from sensors.models import Area, Placement, Sensor
from sensors.services import area_facts

START = datetime(2025, 1, 1, tzinfo=UTC)
SENSORS, AREAS = 300, 30
SLOT = timedelta(minutes=5)
BATCH = 10_000


def setup(records: int, name: str, purpose: str, levels: list[str]) -> tuple[Dataset, str, list[int], datetime]:
    """The organisation `bench-<name>-city` with its dataset of `records` records (loaded once), the approved
    purpose `purpose` for `levels`, and a new analyst API key: (dataset, key, area ids, end of the data)."""
    call_command("migrate", verbosity=0)
    city, _ = Organisation.objects.get_or_create(
        slug=f"bench-{name}-city", defaults={"name": f"Bench {name.title()} City", "kind": "municipality"}
    )
    slots = -(-records // SENSORS)
    end = START + slots * SLOT
    dataset = Dataset.objects.filter(owner=city).first()
    if dataset is None:
        dataset = bench_dataset(city, SENSORS, name)
        place_in_areas(city, dataset)
        load_records(dataset, slots, end)
    else:
        print(f"  reusing dataset {dataset.pk} of {city.slug} (its records are not reloaded)", flush=True)
    bench_purpose(city, dataset, purpose, f"Bench {name}", levels)
    _, key = accounts_services.api_key_create(organisation=city, name=f"{name} bench", role=Role.ANALYST)
    areas = list(Area.objects.filter(owner=city).order_by("pk").values_list("pk", flat=True))
    return dataset, key, areas, end


def rectangle(west: float, south: float, east: float, north: float) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def place_in_areas(city: Organisation, dataset: Dataset) -> None:
    """30 areas of 10 sensors each: sensor n stands at latitude 52 + n / 10,000 (bench_dataset)."""
    sensors = list(Sensor.objects.filter(controller=city).order_by("reference"))
    per_area = SENSORS // AREAS
    for j in range(AREAS):
        south, north = 52.0 + (per_area * j - 0.5) / 10_000, 52.0 + (per_area * (j + 1) - 0.5) / 10_000
        geometry = rectangle(4.999, south, 5.001, north)
        area = Area.objects.create(
            owner=city, name=f"Bench area {j}", area_type="walkway", geometry=geometry, **area_facts(geometry)
        )
        members = sensors[per_area * j : per_area * (j + 1)]
        Sensor.objects.filter(pk__in=[s.pk for s in members]).update(area=area)
        Placement.objects.bulk_create(Placement(sensor=s, area=area, direction="enters") for s in members)
        dataset.areas.add(area)


def load_records(dataset: Dataset, slots: int, end: datetime) -> None:
    """The records as ingest writes them: datasets.storage.store() in-process, in batches of BATCH rows in
    the order a feed sends them (time, then sensor), one transaction each, so the sensor and area rollups
    are the platform's own (written by the same statement). Only HTTP, parsing and `prepare()` are left out
    (`bench/run ingest` measures those)."""
    began = time.perf_counter()
    # The months' partitions first, as `records_partitions` creates them ahead (ingest would create them too).
    months, month = [], partitions.month_of(START)
    while month <= partitions.month_of(end):
        months.append(month)
        month = partitions.next_month(month)
    partitions.months_create(months)
    sensor_ids = list(dataset.sensors.order_by("pk").values_list("pk", flat=True))
    batch, written, index = [], 0, 0
    for h in range(slots):
        start = START + h * SLOT
        stop = start + SLOT
        for s in sensor_ids:
            c_in, c_out = count_in(h, s), count_out(h, s)
            batch.append(Row(index, s, "", start, stop, c_in, c_out, c_in + c_out, None, None))
            index += 1
            if len(batch) == BATCH:
                written += store_batch(dataset, batch)
                batch = []
                if written % 1_000_000 == 0:
                    print(f"  records: {written:,} stored ({time.perf_counter() - began:.0f} s)", flush=True)
    if batch:
        written += store_batch(dataset, batch)
    print(f"  {written:,} records stored through storage.store() in {time.perf_counter() - began:.0f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"  loaded and vacuumed in {time.perf_counter() - began:.0f} s", flush=True)


def count_in(h: int, sensor: int) -> int:
    return (h * 7 + sensor) % 50


def count_out(h: int, sensor: int) -> int:
    return (h * 3 + sensor) % 40


def store_batch(dataset: Dataset, rows: list[Row]) -> int:
    with transaction.atomic():
        stored = storage.store(dataset=dataset, rows=rows, batch_id=None)
        storage.coverage_extend(dataset.pk, rows)
    assert stored.created == len(rows), stored
    return stored.created


# Measuring --------------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"p50": round(statistics.median(ordered), 2), "p95": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2)}


class Client:
    """One keep-alive HTTP connection to the benchmark's server, with an API key and a purpose."""

    def __init__(self, port: int, key: str, purpose: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"Api-Key {key}", "X-Purpose": purpose}

    def get(self, path: str) -> tuple[float, dict]:
        """GET `path`: the time to the whole body read (ms) and the parsed JSON; anything but 200 ends the run."""
        started = time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status}: {body[:400]!r}")
        return elapsed, json.loads(body)


def sql_times(statement: str, params_list: list[list]) -> tuple[list[float], list[list]]:
    """The plain SQL query alone, through psycopg, fetched to the client: times (ms) and the rows."""
    times, answers = [], []
    with connection.cursor() as cursor:
        for params in params_list:
            started = time.perf_counter()
            cursor.execute(statement, params)
            rows = cursor.fetchall()
            times.append((time.perf_counter() - started) * 1000)
            answers.append(rows)
    return times, answers


def save_results(name: str, results: dict) -> None:
    """The run's figures, stamped, into bench/results/<name>-<time>.json (git-ignored)."""
    results["at"] = datetime.now(UTC).isoformat(timespec="seconds")
    out = PROJECT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"{name}-{results['at'].replace(':', '')}.json").write_text(json.dumps(results, indent=2) + "\n")
