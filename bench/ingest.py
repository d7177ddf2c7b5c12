"""Ingest benchmark: records/s through the real HTTP endpoint of a gunicorn server on PostgreSQL,
against binary COPY of the same rows into a plain table, measured in the same run.

Run with `bench/run ingest` (a throwaway PostgreSQL cluster). Prints both rates, their ratio, and the
app server's peak memory; writes the figures to bench/results/ingest-<time>.json.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT), str(PROJECT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402
import psutil  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts import services as accounts_services  # noqa: E402
from accounts.models import Organisation, Role  # noqa: E402
from datasets.models import Dataset, Record, SchemaVersion  # noqa: E402
from sensors.models import Sensor, SensorType  # noqa: E402

START = datetime(2025, 1, 1, tzinfo=UTC)


def bench_dataset(city: Organisation, sensors: int, prefix: str) -> Dataset:
    """A crowd-count-line dataset of the city, fed by `sensors` new active LiDAR counters."""
    lidar = SensorType.objects.get(code="lidar-counter")
    created = Sensor.objects.bulk_create(
        Sensor(controller=city, operator=city, sensor_type=lidar, reference=f"{prefix}-{n:04d}",
               name=f"{prefix} {n}", latitude=52.0 + n / 10_000, longitude=5.0, personal_data_at_edge=False,
               status="active", installed_at=datetime(2024, 1, 1, tzinfo=UTC))
        for n in range(sensors)
    )  # fmt: skip
    dataset = Dataset.objects.create(
        owner=city,
        schema_version=SchemaVersion.objects.get(schema__code="crowd-count-line", version="1.0.0"),
        title=f"{prefix} dataset",
        description="Benchmark",
        contact_point="bench@example.org",
        access="restricted",
        status="active",
    )
    dataset.sensors.set(created)
    return dataset


def setup(sensors: int) -> tuple[Dataset, str]:
    call_command("migrate", verbosity=0)
    city, _ = Organisation.objects.get_or_create(
        slug="bench-city", defaults={"name": "Bench City", "kind": "municipality"}
    )
    Record.objects.unguarded("integrity").filter(dataset__owner=city).delete()
    Dataset.objects.filter(owner=city).delete()
    Sensor.objects.filter(controller=city).delete()
    dataset = bench_dataset(city, sensors, "bench")
    _, key = accounts_services.api_key_create(organisation=city, name="bench", role=Role.INTEGRATOR)
    return dataset, key


def rows(total: int, sensors: int):
    """(reference, observed_from, observed_to, count_in, count_out): sensor i % sensors, 5-minute slots."""
    for i in range(total):
        start = START + timedelta(minutes=5 * (i // sensors))
        yield f"bench-{i % sensors:04d}", start, start + timedelta(minutes=5), (i * 7) % 50, (i * 3) % 40


def bodies(total: int, sensors: int, batch_size: int) -> list[bytes]:
    batches, batch = [], []
    for reference, start, end, count_in, count_out in rows(total, sensors):
        batch.append({"sensor": reference, "observed_from": start.isoformat(), "observed_to": end.isoformat(),
                      "count_in": count_in, "count_out": count_out})  # fmt: skip
        if len(batch) == batch_size:
            batches.append(orjson.dumps({"records": batch}))
            batch = []
    if batch:
        batches.append(orjson.dumps({"records": batch}))
    return batches


def start_server(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_THROTTLE_API_KEY": "100000/min", "DJANGO_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "--pythonpath", "platform", "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--timeout", "300", "--log-level", "warning"],
        cwd=PROJECT, env=env,
    )  # fmt: skip
    for _ in range(200):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/schemas/")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


def peak_memory_mib(server: subprocess.Popen) -> float:
    """Sum of peak resident memory (VmHWM) of the gunicorn master and its workers."""
    total_kib = 0
    for process in [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total_kib += int(line.split()[1])
    return total_kib / 1024


def cpu_seconds(processes) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def postgres_processes():
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]


def send_all(port: int, dataset_id: int, key: str, batches: list[bytes], clients: int) -> tuple[float, dict]:
    totals = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    lock, queue = threading.Lock(), list(enumerate(batches))
    failures = []

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while True:
            with lock:
                if not queue:
                    return
                index, body = queue.pop(0)
            conn.request("POST", f"/api/v1/datasets/{dataset_id}/records/", body,
                         {"Authorization": f"Api-Key {key}", "Content-Type": "application/json",
                          "Idempotency-Key": f"bench-{index}"})  # fmt: skip
            response = conn.getresponse()
            answer = json.loads(response.read())
            with lock:
                if response.status not in (200, 201):
                    failures.append((index, response.status, answer))
                    continue
                for name in totals:
                    totals[name] += answer[name]

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{len(failures)} batches failed, first: {failures[0]}")
    return elapsed, totals


def copy_baseline(total: int, sensors: int, sensor_ids: dict[str, int]) -> float:
    """The same rows into a plain table with binary COPY: the physical limit on this machine."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_copy (sensor_id bigint, observed_from timestamptz, observed_to timestamptz, "
            "count_in bigint, count_out bigint, count bigint)"
        )
        cursor.execute("ALTER TABLE bench_copy SET LOGGED")
    prepared = [
        (sensor_ids[ref], start, end, cin, cout, cin + cout) for ref, start, end, cin, cout in rows(total, sensors)
    ]
    began = time.perf_counter()
    with connection.cursor() as cursor:
        columns = "sensor_id, observed_from, observed_to, count_in, count_out, count"
        with cursor.cursor.copy(f"COPY bench_copy ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "timestamptz", "timestamptz", "int8", "int8", "int8"])
            for row in prepared:
                copy.write_row(row)
    elapsed = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_copy")
        assert cursor.fetchone()[0] == total
        cursor.execute("DROP TABLE bench_copy")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--sensors", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    dataset, key = setup(args.sensors)
    sensor_ids = dict(dataset.sensors.values_list("reference", "pk"))
    batches = bodies(args.records, args.sensors, args.batch_size)
    connection.close()
    print(f"{args.records:,} records for {args.sensors} sensors in {len(batches)} batches of {args.batch_size:,}; "
          f"{args.clients} clients, gunicorn with {args.workers} workers, PostgreSQL")  # fmt: skip

    server = start_server(args.port, args.workers)
    try:
        app = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
        app_cpu, db_cpu = cpu_seconds(app), cpu_seconds(postgres_processes())
        elapsed, totals = send_all(args.port, dataset.pk, key, batches, args.clients)
        app_cpu, db_cpu = cpu_seconds(app) - app_cpu, cpu_seconds(postgres_processes()) - db_cpu
        memory = peak_memory_mib(server)
    finally:
        server.terminate()
        server.wait(timeout=30)
    stored = Record.objects.unguarded("integrity").filter(dataset=dataset).count()
    assert totals["created"] == stored == args.records, (totals, stored)
    platform_rate = args.records / elapsed

    copy_elapsed = copy_baseline(args.records, args.sensors, sensor_ids)
    copy_rate = args.records / copy_elapsed
    result = {
        "records": args.records,
        "sensors": args.sensors,
        "batch_size": args.batch_size,
        "clients": args.clients,
        "workers": args.workers,
        "platform_seconds": round(elapsed, 2),
        "platform_records_per_s": round(platform_rate),
        "copy_seconds": round(copy_elapsed, 2),
        "copy_rows_per_s": round(copy_rate),
        "ratio": round(platform_rate / copy_rate, 3),
        "server_peak_memory_mib": round(memory, 1),
        "app_cpu_seconds": round(app_cpu, 1),
        "database_cpu_seconds": round(db_cpu, 1),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(f"platform (HTTP, validated, idempotent, rollup): {platform_rate:>10,.0f} records/s  ({elapsed:.1f} s)")
    print(f"baseline (binary COPY, plain table):            {copy_rate:>10,.0f} rows/s     ({copy_elapsed:.1f} s)")
    print(f"ratio platform / COPY:                          {platform_rate / copy_rate:>10.3f}   (target >= 0.25)")
    print(f"app server peak memory (master + workers):      {memory:>10,.0f} MiB")
    print(
        f"CPU during the HTTP load: app server {app_cpu:.1f} s, PostgreSQL {db_cpu:.1f} s "
        f"({1e6 * (app_cpu + db_cpu) / args.records:.0f} us per record)"
    )
    out = PROJECT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"ingest-{result['at'].replace(':', '')}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
