"""Ingest benchmark: records/s through the real HTTP endpoint of a gunicorn server on PostgreSQL,
against two baselines measured in the same run: the SQL floor (the same rows, in the same batches, through
the platform's own staging COPY and upsert statements over raw psycopg, one transaction per batch) and
binary COPY of the same rows into a plain table (timed over several runs: median and range).

Run with `bench/run ingest` (a throwaway PostgreSQL cluster). Prints the three rates, the ratios, the app
server's peak memory and the CPU seconds of the app server and of the benchmark's own PostgreSQL cluster;
writes the figures to bench/results/ingest-<time>.json.
"""

import argparse
import http.client
import json
import os
import statistics
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
import psycopg  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts import services as accounts_services  # noqa: E402
from accounts.models import Organisation, Role  # noqa: E402
from accounts.selectors import Caller  # noqa: E402
from api.locks import LockNamespace  # noqa: E402
from datasets import rollups  # noqa: E402
from datasets.models import AreaRollup, Dataset, IngestBatch, Record, RecordRollup, SchemaVersion  # noqa: E402
from datasets.storage import COPY, COPY_TYPES, STAGE, sensor_upsert  # noqa: E402
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


def bench_city() -> Organisation:
    city, _ = Organisation.objects.get_or_create(
        slug="bench-city", defaults={"name": "Bench City", "kind": "municipality"}
    )
    return city


def bench_purpose(city: Organisation, dataset: Dataset, code: str, title: str, levels: list[str]) -> None:
    """The city's approved purpose `code` for `levels`, a collection purpose of the dataset (made once)."""
    from purposes import services  # noqa: PLC0415 (only the read benchmarks need it)
    from purposes.models import Purpose  # noqa: PLC0415

    if Purpose.objects.filter(code=code).exists():
        return
    purpose = services.purpose_create(
        caller=Caller(roles={city.pk: Role.DATA_STEWARD}),
        holder=city,
        code=code,
        title=title,
        decision="Benchmark",
        category="crowd_safety_monitoring",
        legal_basis="e",
        dpia_required=False,
        allowed_levels=levels,
        k_threshold=5,
        valid_from=datetime(2024, 1, 1, tzinfo=UTC),
    )
    services.purpose_approve(caller=Caller(roles={city.pk: Role.PRIVACY_OFFICER}), purpose=purpose)
    dataset.collection_purposes.add(purpose)


def setup(sensors: int) -> tuple[Dataset, str]:
    call_command("migrate", verbosity=0)
    city = bench_city()
    Record.objects.unguarded("integrity").filter(dataset__owner=city).delete()
    Dataset.objects.filter(owner=city).delete()
    Sensor.objects.filter(controller=city).delete()
    dataset = bench_dataset(city, sensors, "bench")
    _, key = accounts_services.api_key_create(organisation=city, name="bench", role=Role.INTEGRATOR)
    return dataset, key


def floor_dataset(dataset: Dataset) -> Dataset:
    """A second dataset of the same schema fed by the same sensors: the floor stores the same rows into it."""
    floor = Dataset.objects.create(
        owner=dataset.owner, schema_version=dataset.schema_version, title="bench floor dataset",
        description="Benchmark: the SQL floor", contact_point="bench@example.org", access="restricted",
        status="active",
    )  # fmt: skip
    floor.sensors.set(dataset.sensors.all())
    return floor


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


def postmaster() -> psutil.Process | None:
    """The benchmark's own PostgreSQL server (its postmaster, from `SHOW data_directory`/postmaster.pid), or
    None when its processes cannot be read (a server on another machine, a data directory not readable)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        data_directory = Path(cursor.fetchone()[0])
    try:
        return psutil.Process(int((data_directory / "postmaster.pid").read_text().split()[0]))
    except (OSError, ValueError, IndexError, psutil.Error):
        return None


def cluster_cpu_seconds(server: psutil.Process | None) -> float | None:
    """CPU seconds of one PostgreSQL server so far: its postmaster and living children (backends, writers,
    WAL writer...), plus the children it has already reaped (a backend whose client disconnected), which
    the kernel adds to the postmaster's children times. Other `postgres` processes on the machine are not
    counted."""
    if server is None:
        return None
    try:
        times = server.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        children = server.children(recursive=True)
    except psutil.Error:
        return None
    return total + cpu_seconds(children)


def cpu_delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


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


def clear_records(city: Organisation) -> None:
    """Empty the records and rollups before the floor runs, so that it writes into the same empty tables as
    the platform did: TRUNCATE when they hold the benchmark's rows only (a throwaway cluster), else DELETE."""
    others = (
        Record.objects.unguarded("integrity").exclude(dataset__owner=city).exists()
        or RecordRollup.objects.unguarded("integrity").exclude(dataset__owner=city).exists()
        or AreaRollup.objects.unguarded("integrity").exclude(dataset__owner=city).exists()
    )
    if others:
        Record.objects.unguarded("integrity").filter(dataset__owner=city).delete()
        RecordRollup.objects.unguarded("integrity").filter(dataset__owner=city).delete()
        AreaRollup.objects.unguarded("integrity").filter(dataset__owner=city).delete()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE datasets_record")
        return
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE datasets_record, datasets_recordrollup, datasets_arearollup")
        cursor.execute("CHECKPOINT")


def stage_rows(total: int, sensors: int, sensor_ids: dict[str, int], batch_size: int) -> list[list[tuple]]:
    """The benchmark's rows as the platform stages them (storage.COPY_TYPES' columns), in the same batches."""
    batches, batch = [], []
    for reference, start, end, count_in, count_out in rows(total, sensors):
        batch.append((sensor_ids[reference], "", start, end, count_in, count_out, count_in + count_out, None, None))
        if len(batch) == batch_size:
            batches.append(batch)
            batch = []
    if batch:
        batches.append(batch)
    return batches


def floor_load(floor: Dataset, batches: list[list[tuple]], clients: int) -> tuple[float, int]:
    """The SQL floor: each batch in one transaction of raw psycopg, doing what storage.store does on
    PostgreSQL and nothing else: the dataset's shared advisory lock, the staging table, binary COPY into it,
    and the project's own upsert with its rollups (datasets.storage.sensor_upsert, built from the schema's
    measure kinds); `clients` connections side by side, as the platform's clients. Each batch has an
    ingest-batch row, as in the platform (the records name it, without a foreign key since ADR 0008).
    Returns (seconds, records created)."""
    batch_ids = [
        batch.pk
        for batch in IngestBatch.objects.bulk_create(
            IngestBatch(dataset=floor, organisation_id=floor.owner_id, source_format="json", status="stored",
                        received=len(rows))
            for rows in batches
        )
    ]  # fmt: skip
    params = connection.get_connection_params()
    connect = {name: params[name] for name in ("dbname", "user", "password", "host", "port") if params.get(name)}
    upsert = sensor_upsert(rollups.plan_for(floor.schema_version))
    lock = f"SELECT pg_advisory_xact_lock_shared({int(LockNamespace.INGEST)}, %s)"
    queue, guard, created, failures = list(zip(batch_ids, batches, strict=True)), threading.Lock(), [0], []

    def client(conn: psycopg.Connection):
        with conn, conn.cursor() as cursor:
            while True:
                with guard:
                    if not queue:
                        return
                    batch_id, rows = queue.pop(0)
                try:
                    cursor.execute(lock, [floor.pk])
                    cursor.execute(STAGE)
                    cursor.execute("TRUNCATE ingest_stage")
                    with cursor.copy(COPY) as copy:
                        copy.set_types(COPY_TYPES)
                        for row in rows:
                            copy.write_row(row)
                    cursor.execute(upsert, {"dataset": floor.pk, "batch": batch_id})
                    inserted, _ = cursor.fetchone()
                    conn.commit()
                except psycopg.Error as error:
                    conn.rollback()
                    with guard:
                        failures.append(error)
                    continue
                with guard:
                    created[0] += inserted

    connections = [psycopg.connect(**connect, prepare_threshold=None) for _ in range(clients)]
    for conn in connections:
        conn.execute("SET TIME ZONE 'UTC'")  # as Django's connections
        conn.commit()
    threads = [threading.Thread(target=client, args=(conn,)) for conn in connections]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{len(failures)} floor batches failed, first: {failures[0]}")
    return elapsed, created[0]


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


def rate_line(label: str, rate: float, unit: str, note: str) -> str:
    return f"{label:<48}{rate:>10,.0f} {unit:<10} {note}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--sensors", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--copy-runs", type=int, default=5, help="times the COPY baseline runs (median, range)")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    dataset, key = setup(args.sensors)
    floor = floor_dataset(dataset)
    sensor_ids = dict(dataset.sensors.values_list("reference", "pk"))
    batches = bodies(args.records, args.sensors, args.batch_size)
    server_pg = postmaster()
    connection.close()
    print(f"{args.records:,} records for {args.sensors} sensors in {len(batches)} batches of {args.batch_size:,}; "
          f"{args.clients} clients, gunicorn with {args.workers} workers, PostgreSQL")  # fmt: skip

    server = start_server(args.port, args.workers)
    try:
        app = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
        app_cpu, db_cpu = cpu_seconds(app), cluster_cpu_seconds(server_pg)
        elapsed, totals = send_all(args.port, dataset.pk, key, batches, args.clients)
        app_cpu, db_cpu = cpu_seconds(app) - app_cpu, cpu_delta(db_cpu, cluster_cpu_seconds(server_pg))
        memory = peak_memory_mib(server)
    finally:
        server.terminate()
        server.wait(timeout=30)
    stored = Record.objects.unguarded("integrity").filter(dataset=dataset).count()
    assert totals["created"] == stored == args.records, (totals, stored)
    platform_rate = args.records / elapsed

    clear_records(dataset.owner)
    staged = stage_rows(args.records, args.sensors, sensor_ids, args.batch_size)
    me = psutil.Process()
    floor_client_cpu, floor_db_cpu = cpu_seconds([me]), cluster_cpu_seconds(server_pg)
    floor_elapsed, floor_created = floor_load(floor, staged, args.clients)
    floor_client_cpu = cpu_seconds([me]) - floor_client_cpu
    floor_db_cpu = cpu_delta(floor_db_cpu, cluster_cpu_seconds(server_pg))
    floor_stored = Record.objects.unguarded("integrity").filter(dataset=floor).count()
    assert floor_created == floor_stored == args.records, (floor_created, floor_stored)
    floor_rate = args.records / floor_elapsed
    del staged

    copy_runs = [copy_baseline(args.records, args.sensors, sensor_ids) for _ in range(args.copy_runs)]
    copy_rates = sorted(args.records / seconds for seconds in copy_runs)
    copy_rate = statistics.median(copy_rates)
    result = {
        "records": args.records,
        "sensors": args.sensors,
        "batch_size": args.batch_size,
        "clients": args.clients,
        "workers": args.workers,
        "platform_seconds": round(elapsed, 2),
        "platform_records_per_s": round(platform_rate),
        "floor_seconds": round(floor_elapsed, 2),
        "floor_rows_per_s": round(floor_rate),
        "copy_runs": len(copy_runs),
        "copy_seconds": [round(seconds, 2) for seconds in copy_runs],
        "copy_rows_per_s": round(copy_rate),
        "copy_rows_per_s_range": [round(copy_rates[0]), round(copy_rates[-1])],
        "ratio_floor": round(platform_rate / floor_rate, 3),
        "ratio": round(platform_rate / copy_rate, 3),
        "server_peak_memory_mib": round(memory, 1),
        "app_cpu_seconds": round(app_cpu, 1),
        "database_cpu_seconds": None if db_cpu is None else round(db_cpu, 1),
        "floor_client_cpu_seconds": round(floor_client_cpu, 1),
        "floor_database_cpu_seconds": None if floor_db_cpu is None else round(floor_db_cpu, 1),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    spread = f"({copy_rates[0]:,.0f} to {copy_rates[-1]:,.0f} over {len(copy_rates)} runs)"
    print(
        rate_line("platform (HTTP, validated, idempotent, rollup):", platform_rate, "records/s", f"({elapsed:.1f} s)")
    )
    print(rate_line("floor (staging COPY + the upsert, raw SQL):", floor_rate, "rows/s", f"({floor_elapsed:.1f} s)"))
    print(rate_line("baseline (binary COPY, plain table), median:", copy_rate, "rows/s", spread))
    print(f"{'ratio platform / floor:':<48}{platform_rate / floor_rate:>10.3f}   (target >= 0.9)")
    print(f"{'ratio platform / COPY:':<48}{platform_rate / copy_rate:>10.3f}   (target >= 0.10)")
    print(f"{'app server peak memory (master + workers):':<48}{memory:>10,.0f} MiB")

    def pg(seconds: float | None) -> str:
        return "not readable" if seconds is None else f"{seconds:.1f} s"

    per_record = "" if db_cpu is None else f" ({1e6 * (app_cpu + db_cpu) / args.records:.0f} us per record)"
    print(f"CPU during the HTTP load: app server {app_cpu:.1f} s, PostgreSQL {pg(db_cpu)}{per_record}")
    print(f"CPU during the floor: its clients {floor_client_cpu:.1f} s, PostgreSQL {pg(floor_db_cpu)}")
    out = PROJECT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"ingest-{result['at'].replace(':', '')}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
