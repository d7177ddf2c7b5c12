"""Migrating back before issue 10's layout (datasets 0007, sensors 0004) and forward again keeps the history:
rollups outlive the records retention deleted, placements are rebuilt from the sensors' areas, and the standard
schemas are not loaded into a database that is not at the datasets app's latest migration (ADR 0009)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from datasets import partitions, rollups
from datasets.models import AreaRollup, Dataset, Record, RecordRollup
from datasets.retention import dataset_retention_enforce
from sensors.models import Area, Placement
from tests.datasets.conftest import make_dataset, make_sensor
from tests.datasets.test_layout import five_minutes, ingest

DATASETS_BEFORE = ("datasets", "0007_keep_coverage_with_the_dataset")
SENSORS_BEFORE = ("sensors", "0004_sensor_drop_dates_add_life_constraints")


def latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    partitions.forget()


def make_area(owner, name):
    return Area.objects.create(owner=owner, name=name, area_type="square", surface_m2_computed=7000,
                               geometry={"type": "Polygon", "coordinates": [[[5, 52], [5.001, 52], [5.001, 52.001],
                                                                              [5, 52]]]},
                               min_lon=5.0, min_lat=52.0, max_lon=5.001, max_lat=52.001)  # fmt: skip


def per_hour(rows, subject):
    """Totals per (owner, hour): the grain both layouts share (0009 reverses quarters into hours)."""
    hours = {}
    for row in rows.values(subject, "bucket", "records", "count_in", "count_out"):
        key = (row[subject], row["bucket"].replace(minute=0))
        totals = hours.setdefault(key, [0, 0, 0])
        for index, name in enumerate(("records", "count_in", "count_out")):
            totals[index] += row[name] or 0
    return hours


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrating_back_and_forward_keeps_rollups_whose_records_retention_deleted(city):
    square, station = make_area(city, "Markt"), make_area(city, "Station")
    sensors = [
        make_sensor(city, city, "line-1", area=square, measures=["count_at_line"]),
        make_sensor(city, city, "line-2", area=station, measures=["count_at_line"]),
    ]
    for sensor in sensors:  # what sensors 0005 makes of a sensor's area: forward from 0004 rebuilds the same
        Placement.objects.create(sensor=sensor, area=sensor.area, direction="enters", starts_at=sensor.installed_at)
    dataset = make_dataset(city, sensors=sensors)
    now = timezone.now()
    # Three hours of five-minute records, the first 98 minutes of them older than the 30 days kept.
    first = now - timedelta(days=30, minutes=98)
    ingest(dataset, five_minutes("line-1", first, 36) + five_minutes("line-2", first + timedelta(minutes=20), 30))
    Dataset.objects.filter(pk=dataset.pk).update(retention_days=30)
    dataset.refresh_from_db()
    records = Record.objects.unguarded("integrity")
    run = dataset_retention_enforce(dataset=dataset)
    assert run.records_deleted == 20 + 16
    sensor_rows, area_rows = (model.objects.unguarded("integrity") for model in (RecordRollup, AreaRollup))
    before = per_hour(sensor_rows, "sensor_id"), per_hour(area_rows, "area_id"), records.count()
    assert sum(n for n, _, _ in before[0].values()) == 66 and before[2] == 30  # the rollups outlive 36 records
    assert rollups.verify(dataset) == []
    try:
        MigrationExecutor(connection).migrate([DATASETS_BEFORE])
        MigrationExecutor(connection).migrate([SENSORS_BEFORE])
        partitions.forget()
        assert per_hour(sensor_rows, "sensor_id") == before[0]
    finally:
        latest()
    assert Placement.objects.count() == 2
    assert (per_hour(sensor_rows, "sensor_id"), per_hour(area_rows, "area_id"), records.count()) == before
    assert rollups.verify(dataset) == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrate_back_before_the_amended_schema_and_forward_again_exits_normally():
    out = StringIO()
    try:
        # The files on disk hold sound-anomaly 1.0.0 as 0009 amended it; 0007's database holds it as published.
        call_command("migrate", *DATASETS_BEFORE, stdout=out)
        assert "Standard schemas not loaded: the datasets app is not at its latest migration." in out.getvalue()
        call_command("migrate", stdout=out)
    finally:
        latest()
    assert out.getvalue().count("Standard schemas not loaded") == 1
