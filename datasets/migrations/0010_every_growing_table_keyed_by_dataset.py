"""Every table that grows with data gets a primary key that holds `dataset_id` (Citus, docs/adr/0008).

PostgreSQL: the rollups and the idempotency keys are keyed by their natural key, which was a unique
constraint and becomes the primary key under the same name (one index where there were two); ingest batches
and retention runs by `(dataset_id, id)`. `id` stays a column drawn from its sequence, and Django's state keeps
it as the primary key (as for records). No foreign key points at these tables (records' `batch_id` has no
constraint). The reverse restores the key on `id` and the unique constraints. SQLite: nothing changes.
"""

from django.db import migrations

# (table, the unique constraint that becomes the primary key or None, the key's columns)
KEYS = [
    ("datasets_recordrollup", "rollup_unique_bucket", "dataset_id, sensor_id, bucket"),
    ("datasets_arearollup", "arearollup_unique_bucket", "dataset_id, area_id, bucket"),
    ("datasets_idempotencykey", "idempotency_unique_key_per_sender", "dataset_id, organisation_id, key"),
    ("datasets_ingestbatch", None, "dataset_id, id"),
    ("datasets_retentionrun", None, "dataset_id, id"),
]


def key_by_dataset(keys):
    def forward(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, unique, columns in keys:
            schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
            if unique:
                schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {unique}")
            schema_editor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {unique or table + '_pkey'} PRIMARY KEY ({columns})"
            )

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, unique, columns in keys:
            schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {unique or table + '_pkey'}")
            schema_editor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id)")
            if unique:
                schema_editor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {unique} UNIQUE ({columns})")

    return forward, backward


class Migration(migrations.Migration):
    dependencies = [("datasets", "0009_rollups_by_kind_15_minutes_and_areas")]

    operations = [migrations.RunPython(*key_by_dataset(KEYS), elidable=False)]
