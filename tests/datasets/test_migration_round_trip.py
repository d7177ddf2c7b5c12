"""Migrating back before issue 10's layout (datasets 0007, sensors 0004) and forward again keeps the history:
rollups outlive the records retention deleted, placements are rebuilt from the sensors' areas, and the standard
schemas are not loaded into a database that is not at the datasets app's latest migration (ADR 0009)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from datasets import partitions
from sensors.models import Area

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
