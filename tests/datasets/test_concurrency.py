"""Concurrent batches to one dataset, over real HTTP: nothing lost, nothing stored twice, rollups exact."""

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Sum

from accounts.models import Role
from datasets.models import IngestBatch, Record, RecordRollup
from tests.datasets.conftest import make_dataset, make_sensor
from tests.factories import api_key_for

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
    assert Record.objects.filter(dataset=dataset).count() == len(expected)
    assert sum(a["created"] for a in answers) == len(expected)
    assert sum(a["updated"] for a in answers) == 0
    assert sum(a["unchanged"] for a in answers) == CLIENTS * PER_BATCH
    assert IngestBatch.objects.filter(dataset=dataset, status="stored").count() == CLIENTS * (BATCHES + 1)
    want_in = sum(row["count_in"] for row in expected.values())
    stored = Record.objects.filter(dataset=dataset).aggregate(i=Sum("count_in"), c=Sum("count"))
    rolled = RecordRollup.objects.filter(dataset=dataset).aggregate(i=Sum("count_in"), c=Sum("count"), n=Sum("records"))
    assert stored["i"] == rolled["i"] == want_in
    assert stored["c"] == rolled["c"] == want_in + len(expected)
    assert rolled["n"] == len(expected)
