"""What one ingest batch costs besides storing it: the work the request does that the records do not need
(issue 10). Speed itself is measured in bench/ (bench/run ingest_phases), never here: these tests check
that the work is gone, and that every check it served still holds."""

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.datasets.conftest import RECORDS, count_record
from tests.security.conftest import make_area

pytestmark = pytest.mark.django_db
PROJECT = Path(__file__).resolve().parents[2]


def test_ingest_reads_the_dataset_without_loading_its_sensors_and_areas(owner_client, dataset, city):
    """get_object prefetched every feeding sensor and area (16 ms for 300 sensors) that ingest never used: it
    resolves the sensors a batch names through its own directory, one query."""
    dataset.areas.set([make_area(city, "Markt", 5.0, 52.0)])
    with CaptureQueriesContext(connection) as queries:
        response = owner_client.post(
            RECORDS.format(dataset.pk), orjson.dumps({"records": [count_record()]}), content_type="application/json"
        )
    assert response.status_code == 201, response.content
    statements = [query["sql"] for query in queries.captured_queries]
    assert not [sql for sql in statements if "datasets_dataset_areas" in sql]
    assert len([sql for sql in statements if 'FROM "sensors_sensor"' in sql]) == 1  # the directory's


def test_the_dataset_detail_still_lists_its_sensors_and_areas(owner_client, dataset, city, gates):
    dataset.areas.set([make_area(city, "Markt", 5.0, 52.0)])
    body = owner_client.get(f"/api/v1/datasets/{dataset.pk}/").json()
    assert len(body["sensors"]) == 2 and len(body["areas"]) == 1


@pytest.mark.parametrize("entry", ["config.wsgi", "config.asgi"])
def test_the_servers_freeze_their_start_up_heap(entry):
    """Python's full collections walked every object loaded at start-up, once per 10,000-record batch
    (60-75 ms of it): the entry points freeze the start-up heap, so collections walk only what requests make."""
    script = f"import gc, {entry}; print(gc.get_freeze_count(), sum(gc.get_count()))"
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], cwd=PROJECT / "platform", capture_output=True, text=True, check=True
    )
    frozen, tracked = (int(number) for number in done.stdout.split())
    assert frozen > 50_000 and tracked < 1_000, done.stdout


def test_a_time_repeated_in_a_batch_is_judged_for_every_record(owner_client, dataset):
    """prepare() reads each distinct time of a batch once: every record holding it still gets its own answer."""
    good = ("2026-01-05T10:00:00Z", "2026-01-05T10:05:00Z")
    early = ("1989-12-31T23:55:00Z", "1990-01-01T00:00:00Z")
    leap = ("2026-01-05T23:59:60Z", "2026-01-06T00:05:00Z")  # RFC 3339 has leap seconds; Python has none
    batch = [count_record(sensor, *times) for times in (good, early, leap) for sensor in ("gate-1", "gate-2")]
    response = owner_client.post(
        RECORDS.format(dataset.pk) + "?partial=true", orjson.dumps({"records": batch}), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["created"], body["rejected"]) == (2, 4)
    errors = [(error["pointer"], error["code"]) for error in body["errors"]]
    assert errors == [
        ("/records/2/observed_from", "out_of_range"),
        ("/records/3/observed_from", "out_of_range"),
        ("/records/4/observed_from", "invalid"),
        ("/records/5/observed_from", "invalid"),
    ]
    assert body["errors"][2]["detail"] == body["errors"][3]["detail"]
    assert body["errors"][2]["detail"].startswith("Not a time")
