"""Every table that grows with data is keyed by dataset_id (issue 10, Citus; docs/adr/0008): the migrations
there and back on a database that holds rows in each of them, and ingest going on afterwards."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import Role
from datasets import partitions, services
from datasets.models import AreaRollup, IdempotencyKey, IngestBatch, RecordRollup
from datasets.retention import dataset_retention_enforce
from purposes.models import AccessEventDataset
from sensors.models import Placement
from tests.datasets.conftest import count_record, make_dataset
from tests.security.conftest import make_area

BEFORE = [("datasets", "0009_rollups_by_kind_15_minutes_and_areas"), ("purposes", "0002_access_log_append_only")]
# table: (its primary key after the migrations, the unique constraint it had beside `id` before them)
KEYS = {
    "datasets_recordrollup": (["dataset_id", "sensor_id", "bucket"], "rollup_unique_bucket"),
    "datasets_arearollup": (["dataset_id", "area_id", "bucket"], "arearollup_unique_bucket"),
    "datasets_idempotencykey": (["dataset_id", "organisation_id", "key"], "idempotency_unique_key_per_sender"),
    "datasets_ingestbatch": (["dataset_id", "id"], None),
    "datasets_retentionrun": (["dataset_id", "id"], None),
    "purposes_accesseventdataset": (["dataset_id", "id"], None),
}
T = datetime(2026, 1, 5, 10, tzinfo=UTC)


def ingest(dataset, start: datetime, n: int, key: str, count_in: int = 3):
    from tests.purposes.conftest import as_role

    rows = [
        count_record(
            start=(start + timedelta(minutes=5 * i)).isoformat(),
            end=(start + timedelta(minutes=5 * i + 5)).isoformat(),
            count_in=count_in,
        )
        for i in range(n)
    ]
    return services.records_ingest(
        caller=as_role(dataset.owner, Role.INTEGRATOR),
        dataset=dataset,
        body=json.dumps({"records": rows}).encode(),
        content_type="application/json",
        idempotency_key=key,
    )


def table_rows() -> dict[str, list[tuple]]:
    found = {}
    with connection.cursor() as cursor:
        for table in KEYS:
            cursor.execute(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608
            found[table] = [tuple(str(value) for value in row) for row in cursor.fetchall()]
    return found


def keys() -> dict[str, tuple[list[str], dict[str, str]]]:
    """Per table: the primary key's columns, and its unique constraints (name: columns)."""
    found = {}
    with connection.cursor() as cursor:
        for table in KEYS:
            cursor.execute(
                """
                SELECT c.conname, c.contype,
                       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
                             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n)
                FROM pg_constraint c WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u')
                """,
                [table],
            )
            constraints = cursor.fetchall()
            primary = [columns for _, kind, columns in constraints if kind == "p"]
            found[table] = (primary[0] if primary else None, {n: ", ".join(c) for n, k, c in constraints if k == "u"})
    return found


@pytest.mark.smoke  # SQLite: the migrations change nothing, and the rows stay
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migrations_key_the_growing_tables_by_dataset_and_back(city, gates):
    dataset = make_dataset(city, sensors=gates)
    Placement.objects.create(sensor=gates[0], area=make_area(city, "Square", 5.0, 52.0), direction="enters")
    assert ingest(dataset, T, 12, "first").status == 201
    assert ingest(dataset, T + timedelta(days=3), 12, "second").status == 201
    dataset.retention_days = 2
    dataset.save(update_fields=["retention_days"])
    dataset_retention_enforce(dataset=dataset, now=T + timedelta(days=3))
    # Back to a long retention: the records below are sent at today's date, long after T.
    dataset.retention_days = 36_500
    dataset.save(update_fields=["retention_days"])
    AccessEventDataset.objects.bulk_create(
        AccessEventDataset(event_id=event, dataset_id=dataset.pk, owner_id=city.pk, at=T) for event in (1, 2)
    )
    before = table_rows()
    assert all(before.values()), {table: len(rows) for table, rows in before.items()}
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        assert keys() == {table: (key, {}) for table, (key, _) in KEYS.items()}
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        assert table_rows() == before
        if postgresql:
            assert keys() == {
                table: (["id"], {unique: ", ".join(key)} if unique else {}) for table, (key, unique) in KEYS.items()
            }
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        partitions.forget()
        assert table_rows() == before
        if postgresql:
            assert keys() == {table: (key, {}) for table, (key, _) in KEYS.items()}
        # Ingest goes on: a retried key is replayed, an overlapping batch updates the rollups on their new key.
        replay = ingest(dataset, T + timedelta(days=3), 12, "second")
        assert replay.replayed and replay.body == IdempotencyKey.objects.get(key="second").response_body
        again = ingest(dataset, T + timedelta(days=3, minutes=30), 12, "third", count_in=5)
        assert (again.status, again.body["created"], again.body["updated"]) == (201, 6, 6)
        batch = IngestBatch.objects.get(pk=again.body["batch"])
        assert (batch.created, batch.updated) == (6, 6) and batch.pk > max(int(row[0]) for row in before[
            "datasets_ingestbatch"])  # fmt: skip
        bucket = T + timedelta(days=3, minutes=45)
        assert RecordRollup.objects.unguarded("integrity").get(sensor=gates[0], bucket=bucket).count_in == 15
        assert AreaRollup.objects.unguarded("integrity").get(bucket=bucket).count_in == 15
        assert IdempotencyKey.objects.get(key="third").response_status == 201
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        partitions.forget()
