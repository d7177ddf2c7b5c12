"""A batch in flight while rollups are recomputed from the records (verify_rollups --repair, a placement
change): the recompute takes the dataset's ingest lock exclusively, so the batch is counted, never lost."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from datasets import rollups, storage
from datasets.models import AreaRollup, RecordRollup
from datasets.records import Row
from sensors.models import Placement
from sensors.signals import placements_changed
from tests.datasets.conftest import make_dataset, make_sensor
from tests.security.conftest import make_area

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

HOLD = 3  # seconds the batch stays uncommitted, unless the other side finishes first


def row(sensor, start, count_in=1) -> Row:
    return Row(0, sensor.pk, "", start, start + timedelta(minutes=5), count_in, 0, None, None, None)


def batch_in_flight(dataset, rows, stored: threading.Event, other_done: threading.Event, errors: list):
    """Store a batch and keep it uncommitted until the other side is done (or HOLD seconds: the other side
    waits for this batch when it takes the dataset's lock)."""
    try:
        with transaction.atomic():
            storage.store(dataset=dataset, rows=rows, batch_id=None)
            stored.set()
            other_done.wait(HOLD)
    except Exception as error:  # noqa: BLE001 (reported by the test)
        errors.append(error)
        stored.set()
    finally:
        connection.close()


def run_against_batch(dataset, rows, action):
    stored, done, errors = threading.Event(), threading.Event(), []
    thread = threading.Thread(target=batch_in_flight, args=(dataset, rows, stored, done, errors))
    thread.start()
    assert stored.wait(30)
    try:
        with transaction.atomic():
            action()
    finally:
        done.set()
        thread.join(60)
    assert not errors


@pytest.fixture
def setting(city):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is measured on PostgreSQL")
    sensor = make_sensor(city, city, "s0")
    square, station = make_area(city, "Square", 5.0, 52.0), make_area(city, "Station", 5.1, 52.1)
    Placement.objects.create(sensor=sensor, area=square, direction="enters")
    dataset = make_dataset(city, sensors=[sensor])
    bucket = rollups.bucket_of(timezone.now() - timedelta(days=2))
    with transaction.atomic():
        storage.store(dataset=dataset, rows=[row(sensor, bucket, 5)], batch_id=None)
    return dataset, sensor, square, station, bucket


def test_repair_counts_a_batch_in_flight(setting):
    """The repair of a missing sensor row whose bucket a batch in flight adds to: without the dataset's lock
    the repair computes 1 record from its snapshot, waits on the batch's new row, and writes 1 over its 2."""
    dataset, sensor, _, _, bucket = setting
    RecordRollup.objects.unguarded("integrity").filter(dataset=dataset).delete()
    found = []
    run_against_batch(
        dataset,
        [row(sensor, bucket + timedelta(minutes=5), 7)],
        lambda: found.extend(rollups.verify(dataset, repair=True)),
    )
    stored = RecordRollup.objects.unguarded("integrity").get(dataset=dataset, sensor=sensor, bucket=bucket)
    assert (stored.records, stored.count_in) == (2, 12)
    assert found  # the deleted row, seen and repaired
    assert rollups.verify(dataset) == []


def test_a_placement_change_counts_a_batch_in_flight(setting):
    """The sensor moves from the square to the station from before the batch's record, in a bucket the sensor
    had no records in: the batch (which read the old placement) puts its record in the square; without the
    lock the recompute runs before it commits, does not see that bucket, and the square keeps the record."""
    dataset, sensor, square, station, bucket = setting

    def move():
        Placement.objects.filter(sensor=sensor).update(area=station)
        placements_changed.send(sender=Placement, sensor_id=sensor.pk, start=None, end=None)

    later = bucket + timedelta(minutes=15)
    run_against_batch(dataset, [row(sensor, later, 7)], move)
    areas = {(r.area_id, r.bucket): (r.records, r.count_in) for r in AreaRollup.objects.unguarded("integrity").all()}
    assert areas == {(station.pk, bucket): (1, 5), (station.pk, later): (1, 7)}
    assert rollups.verify(dataset) == []
