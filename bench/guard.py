"""Guard benchmark: what the purpose guard and the access log add to a data request, and how the log's
appends scale with concurrent writers, each against a baseline measured in the same run.

1. A records page through HTTP (gunicorn, guard and log) against the same page's SQL alone: p50/p95 and
   the difference; beside it the guard's decision and the log's append, timed in the process.
2. Access-event appends per second with 1, 4 and 16 concurrent writers, sharded into ACCESS_LOG_CHAINS
   chains, against the same with a single chain (what one global lock would give).

Run with `bench/run guard` (a throwaway PostgreSQL cluster); durable commits with
`PG_EXTRA_OPTIONS="-c fsync=on -c synchronous_commit=on -c full_page_writes=on" bench/run guard`.
"""

import argparse
import http.client
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402
from ingest import PROJECT, bench_dataset, bench_purpose, start_server  # noqa: E402  (sets up Django)

from accounts import services as accounts_services  # noqa: E402
from accounts.models import Organisation, Role  # noqa: E402
from accounts.selectors import Caller  # noqa: E402
from datasets.models import Dataset  # noqa: E402
from purposes import access_log, services  # noqa: E402
from sensors.models import Sensor  # noqa: E402

PURPOSE = "bench-crowd-safety"


def setup(records: int, sensors: int) -> tuple[Dataset, str, list[int]]:
    call_command("migrate", verbosity=0)
    city, _ = Organisation.objects.get_or_create(
        slug="bench-guard-city", defaults={"name": "Bench Guard City", "kind": "municipality"}
    )
    dataset = Dataset.objects.filter(owner=city).first()
    if dataset is None:
        dataset = bench_dataset(city, sensors, "guard")
        per_sensor = records // sensors
        with connection.cursor() as cursor:
            # Straight into the table: the benchmark is about reading, not ingest.
            cursor.execute(
                """
                INSERT INTO datasets_record (dataset_id, sensor_id, series, observed_from, observed_to,
                                             count_in, count_out, count)
                SELECT %s, s.id, '', t, t + interval '5 minutes',
                       (h %% 50) + 5, (h %% 30) + 2, (h %% 50) + (h %% 30) + 7
                FROM sensors_sensor s
                CROSS JOIN generate_series(0, %s - 1) AS h
                CROSS JOIN LATERAL (SELECT timestamptz '2025-01-01 00:00+00' + h * interval '5 minutes' AS t) AS ts
                WHERE s.controller_id = %s
                """,
                [dataset.pk, per_sensor, city.pk],
            )
            cursor.execute("ANALYZE datasets_record")
    bench_purpose(city, dataset, PURPOSE, "Bench", ["records"])
    _, key = accounts_services.api_key_create(organisation=city, name="guard bench", role=Role.ANALYST)
    sensor_ids = list(Sensor.objects.filter(controller=city).order_by("pk").values_list("pk", flat=True))
    return dataset, key, sensor_ids


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def http_pages(port: int, dataset: Dataset, key: str, sensor_ids: list[int], n: int, page: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for i in range(n):
        sensor = sensor_ids[i % len(sensor_ids)]
        path = f"/api/v1/records/?dataset={dataset.pk}&sensor={sensor}&page_size={page}"
        started = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Api-Key {key}", "X-Purpose": PURPOSE})
        response = conn.getresponse()
        body = response.read()
        times.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise SystemExit(f"{response.status}: {body[:300]!r}")
    return times


def sql_pages(dataset: Dataset, sensor_ids: list[int], n: int, page: int) -> list[float]:
    """The same page's SQL alone, through psycopg, fetched to the client."""
    times = []
    with connection.cursor() as cursor:
        for i in range(n):
            sensor = sensor_ids[i % len(sensor_ids)]
            started = time.perf_counter()
            cursor.execute(
                "SELECT sensor_id, series, observed_from, observed_to, count_in, count_out, count, gauge, data "
                "FROM datasets_record WHERE dataset_id = %s AND sensor_id = %s "
                "ORDER BY sensor_id, observed_from LIMIT %s",
                [dataset.pk, sensor, page + 1],
            )
            cursor.fetchall()
            times.append((time.perf_counter() - started) * 1000)
    return times


def in_process(dataset: Dataset, n: int) -> tuple[list[float], list[float]]:
    city = dataset.owner
    caller = Caller(roles={city.pk: Role.ANALYST})
    decide, append = [], []
    for _ in range(n):
        started = time.perf_counter()
        services.access_decide(caller=caller, purpose_code=PURPOSE, dataset_ids=[dataset.pk], level="records")
        decide.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        access_log.access_event_append(content=event_content(dataset))
        append.append((time.perf_counter() - started) * 1000)
    return decide, append


def event_content(dataset: Dataset) -> access_log.EventContent:
    return access_log.EventContent(
        actor_kind="api_key", actor_name="bench", organisation_id=dataset.owner_id, organisation_slug="bench",
        purpose_code=PURPOSE, purpose_holder_id=dataset.owner_id, dataset_ids=(dataset.pk,),
        dataset_owner_ids={dataset.pk: dataset.owner_id}, endpoint="bench", params={}, decision="allowed",
        reason="", status_code=200, rows=100, cells=500,
    )  # fmt: skip


def _writer(seconds: float, chains: int, dataset_pk: int, queue) -> None:
    """One writer process: appends until the time is up, then reports its count."""
    connections.close_all()  # never share the parent's connection
    settings.ACCESS_LOG_CHAINS = chains
    content = event_content(Dataset.objects.get(pk=dataset_pk))
    count, stop = 0, time.perf_counter() + seconds
    while time.perf_counter() < stop:
        access_log.access_event_append(content=content)
        count += 1
    queue.put(count)


def appends_per_second(dataset: Dataset, writers: int, seconds: float, chains: int) -> float:
    """Writers are processes (as app-server workers are), so the GIL does not cap them."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    connections.close_all()
    processes = [context.Process(target=_writer, args=(seconds, chains, dataset.pk, queue)) for _ in range(writers)]
    started = time.perf_counter()
    for process in processes:
        process.start()
    total = sum(queue.get() for _ in processes)
    for process in processes:
        process.join()
    return total / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--sensors", type=int, default=300)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--port", type=int, default=8767)
    args = parser.parse_args()

    dataset, key, sensor_ids = setup(args.records, args.sensors)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM datasets_record WHERE dataset_id = %s", [dataset.pk])
        held = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        durable = cursor.fetchone()[0]
    print(f"{held:,} records in the dataset; synchronous_commit={durable}; {args.requests} pages of {args.page_size}")

    server = start_server(args.port, workers=1)
    try:
        http_pages(args.port, dataset, key, sensor_ids, 20, args.page_size)  # warm up
        sql_pages(dataset, sensor_ids, 20, args.page_size)
        http_ms = http_pages(args.port, dataset, key, sensor_ids, args.requests, args.page_size)
        sql_ms = sql_pages(dataset, sensor_ids, args.requests, args.page_size)
    finally:
        server.terminate()
        server.wait()
    decide_ms, append_ms = in_process(dataset, args.requests)
    (hp50, hp95), (sp50, sp95) = percentiles(http_ms), percentiles(sql_ms)
    (dp50, dp95), (ap50, ap95) = percentiles(decide_ms), percentiles(append_ms)
    print(f"records page over HTTP (guard + log):  p50 {hp50:7.2f} ms   p95 {hp95:7.2f} ms")
    print(f"the same page's SQL alone (baseline):  p50 {sp50:7.2f} ms   p95 {sp95:7.2f} ms")
    print(f"difference:                            p50 {hp50 - sp50:7.2f} ms   p95 {hp95 - sp95:7.2f} ms  "
          f"(ratio {hp50 / sp50:.1f}x)")  # fmt: skip
    print(f"  of which the guard's decision:       p50 {dp50:7.2f} ms   p95 {dp95:7.2f} ms")
    print(f"  of which the access-log append:      p50 {ap50:7.2f} ms   p95 {ap95:7.2f} ms")

    sharded = settings.ACCESS_LOG_CHAINS
    rates = {}
    for writers in (1, 4, 16):
        rates[writers] = (
            appends_per_second(dataset, writers, args.seconds, sharded),
            appends_per_second(dataset, writers, args.seconds, 1),
        )
        mine, single = rates[writers]
        print(f"appends/s with {writers:2d} writers: {mine:8.0f} ({sharded} chains)   "
              f"{single:8.0f} (one chain: baseline)   ratio {mine / single:.2f}")  # fmt: skip
    checked, breaks = access_log.access_log_verify()
    print(f"access log verified: {checked:,} events, {len(breaks)} broken chains")

    results = PROJECT / "bench" / "results"
    results.mkdir(exist_ok=True)
    out = results / f"guard-{timezone.now():%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps({
        "records": held, "synchronous_commit": durable, "page_size": args.page_size, "requests": args.requests,
        "http_ms": {"p50": hp50, "p95": hp95}, "sql_ms": {"p50": sp50, "p95": sp95},
        "decide_ms": {"p50": dp50, "p95": dp95}, "append_ms": {"p50": ap50, "p95": ap95},
        "appends_per_second": {str(w): {"sharded": r[0], "one_chain": r[1]} for w, r in rates.items()},
        "chains": sharded,
    }, indent=2))  # fmt: skip
    print(f"figures written to {out.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
