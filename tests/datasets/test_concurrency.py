"""Concurrent batches to one dataset, over real HTTP: nothing lost, nothing stored twice, rollups exact."""

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Sum

from accounts.models import Role
from datasets.models import AreaRollup, IngestBatch, Record, RecordRollup
from sensors.models import Placement
from tests.datasets.conftest import make_dataset, make_sensor
from tests.factories import api_key_for
from tests.security.conftest import make_area

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CLIENTS, BATCHES, PER_BATCH = 4, 5, 200


def records_for(client: int, batch: int) -> list[dict]:
    """Every client writes its own minute of the same sensors and hours: no natural key is shared, but
    every hourly rollup is touched by all clients at once (the race a rollup must survive)."""
    base = datetime(2020, 1, 5, tzinfo=UTC)
    rows = []
    for n in range(PER_BATCH):
        start = base + timedelta(hours=batch * 1000 + n // 3, minutes=5 * client)
        rows.append({"sensor": f"s{n % 3}", "observed_from": start.isoformat(),
                     "observed_to": (start + timedelta(minutes=5)).isoformat(), "count_in": (n + client) % 7,
                     "count_out": 1})  # fmt: skip
    return rows


def test_concurrent_batches_lose_nothing_and_duplicate_nothing(live_server, city):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is measured on PostgreSQL")
    sensors = [make_sensor(city, city, f"s{n}") for n in range(3)]
    placed(city, sensors)
    dataset = make_dataset(city, sensors=sensors)
    _, key = api_key_for(city, role=Role.INTEGRATOR)

    def send(client: int) -> list[dict]:
        answers = []
        for batch in [*range(BATCHES), 0]:  # the last one is a retry of the first: nothing new
            body = json.dumps({"records": records_for(client, batch)}).encode()
            request = urllib.request.Request(  # noqa: S310
                f"{live_server.url}/api/v1/datasets/{dataset.pk}/records/", data=body, method="POST",
                headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
            )  # fmt: skip
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                answers.append(json.loads(response.read()))
        return answers

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = [a for result in pool.map(send, range(CLIENTS)) for a in result]

    expected = {}
    for client in range(CLIENTS):
        for batch in range(BATCHES):
            for row in records_for(client, batch):
                expected[(row["sensor"], row["observed_from"])] = row
    assert Record.objects.unguarded("integrity").filter(dataset=dataset).count() == len(expected)
    assert sum(a["created"] for a in answers) == len(expected)
    assert sum(a["updated"] for a in answers) == 0
    assert sum(a["unchanged"] for a in answers) == CLIENTS * PER_BATCH
    assert IngestBatch.objects.filter(dataset=dataset, status="stored").count() == CLIENTS * (BATCHES + 1)
    want_in = sum(row["count_in"] for row in expected.values())
    stored = Record.objects.unguarded("integrity").filter(dataset=dataset).aggregate(i=Sum("count_in"), c=Sum("count"))
    rolled = (
        RecordRollup.objects.unguarded("integrity")
        .filter(dataset=dataset)
        .aggregate(i=Sum("count_in"), c=Sum("count"), n=Sum("records"))
    )
    assert stored["i"] == rolled["i"] == want_in
    assert stored["c"] == rolled["c"] == want_in + len(expected)
    assert rolled["n"] == len(expected)
    assert_areas_exact(dataset)


def placed(city, sensors) -> None:
    """s0 and s2 enter the square, s1 leaves it: every area bucket is shared by all clients too."""
    square = make_area(city, "Square", 5.0, 52.0)
    for sensor in sensors:
        direction = "leaves" if sensor.reference == "s1" else "enters"
        Placement.objects.create(sensor=sensor, area=square, direction=direction)


def assert_areas_exact(dataset) -> None:
    """The area rollup agrees with the records: in/out with the gate directions applied, records, sensors."""
    records = Record.objects.unguarded("integrity").filter(dataset=dataset)
    want_in = sum(r.count_out if r.sensor.reference == "s1" else r.count_in for r in records.select_related("sensor"))
    want_out = sum(r.count_in if r.sensor.reference == "s1" else r.count_out for r in records.select_related("sensor"))
    areas = AreaRollup.objects.unguarded("integrity").filter(dataset=dataset)
    got = areas.aggregate(i=Sum("count_in"), o=Sum("count_out"), n=Sum("records"), s=Sum("sensors"))
    sensor_buckets = RecordRollup.objects.unguarded("integrity").filter(dataset=dataset).count()
    assert (got["i"], got["o"], got["n"], got["s"]) == (want_in, want_out, records.count(), sensor_buckets)


def shifted(rows: list[dict], seconds: int) -> list[dict]:
    """The same sensors and hours, `seconds` later: new natural keys in the same hourly rollups."""
    moved = []
    for row in rows:
        start = datetime.fromisoformat(row["observed_from"]) + timedelta(seconds=seconds)
        moved.append(dict(row, observed_from=start.isoformat(), observed_to=(start + timedelta(minutes=1)).isoformat()))
    return moved


def test_concurrent_corrections_keep_the_rollups_exact(live_server, city):
    """Clients correct their own records of shared hours at the same time, while adding new records to
    the same hours: recomputed and incremented rollups must agree with the records."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is measured on PostgreSQL")
    rounds = 6
    sensors = [make_sensor(city, city, f"s{n}") for n in range(3)]
    placed(city, sensors)
    dataset = make_dataset(city, sensors=sensors)
    _, key = api_key_for(city, role=Role.INTEGRATOR)

    def post(rows: list[dict]) -> dict:
        request = urllib.request.Request(  # noqa: S310
            f"{live_server.url}/api/v1/datasets/{dataset.pk}/records/", data=json.dumps({"records": rows}).encode(),
            method="POST", headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return json.loads(response.read())

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda client: post(records_for(client, 0)), range(CLIENTS)))

    def correct(client: int) -> list[dict]:
        answers = []
        base = records_for(client, 0)
        for round_ in range(rounds):
            corrected = [dict(row, count_in=row["count_in"] + 10 * (round_ + 1)) for row in base]
            added = shifted(base, 1 + round_ * CLIENTS + client)
            answers.append(post(corrected + added))
        return answers

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = [a for result in pool.map(correct, range(CLIENTS)) for a in result]
    assert sum(a["updated"] for a in answers) == CLIENTS * rounds * PER_BATCH
    assert sum(a["created"] for a in answers) == CLIENTS * rounds * PER_BATCH
    stored = Record.objects.unguarded("integrity").filter(dataset=dataset).aggregate(i=Sum("count_in"), c=Sum("count"))
    rolled = (
        RecordRollup.objects.unguarded("integrity")
        .filter(dataset=dataset)
        .aggregate(i=Sum("count_in"), c=Sum("count"), n=Sum("records"))
    )
    assert (stored["i"], stored["c"]) == (rolled["i"], rolled["c"])
    assert (
        rolled["n"]
        == Record.objects.unguarded("integrity").filter(dataset=dataset).count()
        == CLIENTS * (rounds + 1) * PER_BATCH
    )
    assert_areas_exact(dataset)


def test_a_correction_waits_for_a_concurrent_one_on_the_same_hour(city):
    """Deterministic: A corrects a record and holds its transaction open; B corrects another record of
    the same hour. B must not recompute the hour from a snapshot that misses A's correction."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is measured on PostgreSQL")
    import threading

    from django.db import transaction

    from datasets import storage
    from datasets.records import Row

    sensor = make_sensor(city, city, "s0")
    dataset = make_dataset(city, sensors=[sensor])
    hour = datetime(2020, 1, 5, 10, tzinfo=UTC)

    def row(minute: int, count_in: int) -> Row:
        start = hour + timedelta(minutes=minute)
        return Row(0, sensor.pk, "", start, start + timedelta(minutes=5), count_in, 0, count_in, None, None)

    with transaction.atomic():
        storage.store(dataset=dataset, rows=[row(0, 1), row(5, 1)], batch_id=None)

    a_stored, release_a = threading.Event(), threading.Event()
    errors = []

    def correct_a():
        try:
            with transaction.atomic():
                storage.store(dataset=dataset, rows=[row(0, 100)], batch_id=None)
                a_stored.set()
                release_a.wait(10)
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection

    def correct_b():
        try:
            with transaction.atomic():
                storage.store(dataset=dataset, rows=[row(5, 1000)], batch_id=None)
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection

    a, b = threading.Thread(target=correct_a), threading.Thread(target=correct_b)
    a.start()
    assert a_stored.wait(10)
    b.start()
    b.join(1.0)  # B is blocked by A (or, without the lock, has already read a stale hour)
    release_a.set()
    a.join(10)
    b.join(10)
    assert not errors, errors
    rollup = RecordRollup.objects.unguarded("integrity").get(dataset=dataset, sensor=sensor, bucket=hour)
    assert (rollup.records, rollup.count_in) == (2, 100 + 1000)
