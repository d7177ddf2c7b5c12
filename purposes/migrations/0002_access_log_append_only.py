"""Triggers refuse UPDATE, DELETE and TRUNCATE on the access log (PostgreSQL; UPDATE and DELETE on SQLite)."""

from django.db import migrations

from purposes import triggers


def create(apps, schema_editor):
    triggers.execute(schema_editor.connection, triggers.create_sql(schema_editor.connection.vendor, triggers.ACCESS_LOG_TABLES))


def drop(apps, schema_editor):
    triggers.execute(schema_editor.connection, triggers.drop_sql(schema_editor.connection.vendor, triggers.ACCESS_LOG_TABLES))


class Migration(migrations.Migration):
    dependencies = [("purposes", "0001_purposes_grants_access_log")]
    operations = [migrations.RunPython(create, drop)]
