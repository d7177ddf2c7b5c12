"""The access log's per-dataset rows are keyed by `(dataset_id, id)` (Citus: they are distributed by dataset,
docs/adr/0008); Django's state keeps `id` as the primary key. Nothing points at the table. SQLite: nothing
changes."""

from django.db import migrations

TABLE = "purposes_accesseventdataset"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {TABLE}_pkey")
        schema_editor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (dataset_id, id)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {TABLE}_pkey")
        schema_editor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)")


class Migration(migrations.Migration):
    dependencies = [("purposes", "0002_access_log_append_only")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
