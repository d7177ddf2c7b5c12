"""Rollups outlive their records (ADR 0009): once retention deleted a bucket's records, no record of it is
taken again (a re-send would be counted twice) and nothing recomputes it from the records left (a correction
would erase what the deleted ones counted)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from datasets import rollups
from datasets.models import IngestBatch, Record
from datasets.retention import dataset_retention_enforce
from sensors.models import Placement
from sensors.signals import placements_changed
from tests.datasets.conftest import count_record, make_dataset
from tests.datasets.test_bounds import post_json
from tests.datasets.test_rollups import area_rows, sensor_rows
from tests.security.conftest import make_area

pytestmark = pytest.mark.django_db


def figures(dataset) -> tuple:
    sensors = sorted((k, r.records, r.count_in, r.count_out) for k, r in sensor_rows(dataset).items())
    areas = sorted((k, r.records, r.sensors, r.count_in, r.count_out) for k, r in area_rows(dataset).items())
    return sensors, areas


def test_kept_from_rounds_the_cutoff_up_to_a_whole_bucket(city):
    dataset = make_dataset(city, retention_days=30)
    aligned = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert rollups.kept_from(dataset, aligned) == aligned - timedelta(days=30)
    assert rollups.kept_from(dataset, aligned + timedelta(minutes=1)) == aligned - timedelta(days=30, minutes=-15)


def test_records_before_the_retention_are_refused_and_their_rollups_never_recomputed(owner_client, city, gates):
    dataset = make_dataset(city, sensors=gates)
    square = make_area(city, "Square", 5.0, 52.0)
    Placement.objects.create(sensor=gates[0], area=square, direction="enters")
    Placement.objects.create(sensor=gates[1], area=square, direction="enters")
    old = rollups.bucket_of(timezone.now() - timedelta(days=40))
    start, end = old.isoformat(), (old + timedelta(minutes=5)).isoformat()
    later, later_end = (old + timedelta(minutes=5)).isoformat(), (old + timedelta(minutes=10)).isoformat()
    sent = [
        count_record("gate-1", start, end, count_in=3, count_out=3),
        count_record("gate-1", later, later_end, count_in=13, count_out=0),
        count_record("gate-2", start, end, count_in=11, count_out=1),
    ]
    assert post_json(owner_client, dataset, sent).status_code == 201
    dataset.retention_days = 30
    dataset.save(update_fields=["retention_days"])
    run = dataset_retention_enforce(dataset=dataset)
    assert run.records_deleted == 3 and not Record.objects.unguarded("integrity").filter(dataset=dataset).exists()
    kept = figures(dataset)
    assert kept[0] == [((gates[0].pk, old), 2, 16, 3), ((gates[1].pk, old), 1, 11, 1)]
    assert kept[1] == [((square.pk, old), 3, 2, 27, 4)]

    # 1) A re-send (a vendor's retry, a backfill) is refused: its bucket already counts it.
    answer = post_json(owner_client, dataset, [sent[0]])
    assert answer.status_code == 422
    error = answer.json()["errors"][0]
    assert (error["pointer"], error["code"]) == ("/records/0/observed_from", "older_than_retention")
    # 2) So is a correction, also among valid records (?partial=true), counted by its reason.
    fresh = rollups.bucket_of(timezone.now() - timedelta(days=1))
    batch = [
        count_record("gate-1", start, end, count_in=4, count_out=3),
        count_record("gate-1", fresh.isoformat(), (fresh + timedelta(minutes=5)).isoformat()),
    ]
    answer = post_json(owner_client, dataset, batch, partial=True)
    assert answer.status_code == 201 and (answer.json()["created"], answer.json()["rejected"]) == (1, 1)
    assert IngestBatch.objects.get(pk=answer.json()["batch"]).rejected_by_reason == {"older_than_retention": 1}
    # 3) Nothing recomputes the old bucket from the records left (none): not a refresh (a correcting batch's),
    # a placement change or verify --repair, in SQL or in Python.
    for sql in (False, True) if rollups.in_sql() else (False,):
        rollups.refresh(dataset, {(gates[0].pk, old), (gates[1].pk, old)}, sql=sql)
    placements_changed.send(sender=Placement, sensor_id=gates[0].pk, start=None, end=None)
    assert rollups.verify(dataset, repair=True) == []
    now = figures(dataset)
    assert ([row for row in now[0] if row[0][1] == old], [row for row in now[1] if row[0][1] == old]) == kept


def test_a_retention_raised_after_a_run_does_not_reopen_what_it_deleted(owner_client, city, gates):
    dataset = make_dataset(city, sensors=gates)
    old = rollups.bucket_of(timezone.now() - timedelta(days=40))
    sent = [count_record("gate-1", old.isoformat(), (old + timedelta(minutes=5)).isoformat(), count_in=3)]
    assert post_json(owner_client, dataset, sent).status_code == 201
    dataset.retention_days = 30
    dataset.save(update_fields=["retention_days"])
    assert dataset_retention_enforce(dataset=dataset).records_deleted == 1
    dataset.retention_days = 365  # the owner keeps records longer from now on
    dataset.save(update_fields=["retention_days"])
    answer = post_json(owner_client, dataset, sent)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["code"] == "older_than_retention"
    assert [(r.records, r.count_in) for r in sensor_rows(dataset).values()] == [(1, 3)]
