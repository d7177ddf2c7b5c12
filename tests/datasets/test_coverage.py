"""Coverage is kept with the dataset (issue 9): ingest widens it, retention narrows it, a migration fills it
in, and the public catalogue reads it without touching the records, so it stays cheap as records grow and
odd records stored before the bounds cannot break it."""

import importlib
from datetime import UTC, datetime

import orjson
import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from datasets.models import Dataset
from datasets.retention import dataset_retention_enforce
from tests.datasets.conftest import RECORDS, count_record

pytestmark = pytest.mark.django_db

PUBLIC = ["/api/v1/public/datasets/", "/api/v1/public/datasets/{}/", "/api/v1/public/catalog/"]


def send(client, dataset, *records):
    response = client.post(
        RECORDS.format(dataset.pk), orjson.dumps({"records": list(records)}), content_type="application/json"
    )
    assert response.status_code in (200, 201), response.content


def coverage(dataset):
    dataset.refresh_from_db()
    return dataset.coverage_from, dataset.coverage_to


def test_ingest_widens_the_coverage_and_retention_narrows_it(owner_client, dataset, api_client):
    assert coverage(dataset) == (None, None)
    send(owner_client, dataset, count_record(start="2026-01-05T10:00:00Z", end="2026-01-05T10:05:00Z"))
    assert coverage(dataset) == (datetime(2026, 1, 5, 10, tzinfo=UTC), datetime(2026, 1, 5, 10, 5, tzinfo=UTC))
    send(
        owner_client,
        dataset,
        count_record(start="2026-01-03T08:00:00Z", end="2026-01-03T08:05:00Z"),
        count_record("gate-2", start="2026-01-07T23:55:00Z", end="2026-01-08T00:00:00Z"),
    )
    assert coverage(dataset) == (datetime(2026, 1, 3, 8, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC))
    # A batch inside the coverage changes nothing; a refused one neither.
    send(owner_client, dataset, count_record(start="2026-01-06T10:00:00Z", end="2026-01-06T10:05:00Z"))
    assert coverage(dataset) == (datetime(2026, 1, 3, 8, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC))
    detail = api_client.get(f"/api/v1/public/datasets/{dataset.pk}/").json()["temporal_coverage"]
    assert detail == {"start": "2026-01-03T08:00:00Z", "end": "2026-01-08T00:00:00Z"}
    dataset.retention_days = 1
    dataset.save()
    dataset_retention_enforce(dataset=dataset, now=datetime(2026, 1, 6, 12, tzinfo=UTC))
    assert coverage(dataset) == (datetime(2026, 1, 6, 10, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC))
    dataset_retention_enforce(dataset=dataset, now=datetime(2026, 2, 1, tzinfo=UTC))
    assert coverage(dataset) == (None, None)


def test_the_public_catalogue_never_reads_records(owner_client, dataset, api_client):
    send(owner_client, dataset, count_record())
    for path in PUBLIC:
        with CaptureQueriesContext(connection) as queries:
            response = api_client.get(path.format(dataset.pk))
        assert response.status_code == 200, response.content
        tables = " ".join(query["sql"] for query in queries.captured_queries)
        assert "datasets_record" not in tables, path  # neither the records nor their rollup


def test_the_catalogue_costs_the_same_for_one_dataset_or_many(owner_client, dataset, api_client, city):
    from tests.datasets.conftest import make_dataset

    send(owner_client, dataset, count_record())
    with CaptureQueriesContext(connection) as one:
        api_client.get("/api/v1/public/catalog/")
    for n in range(5):
        make_dataset(city, title=f"more {n}", sensors=dataset.sensors.all())
    with CaptureQueriesContext(connection) as six:
        assert len(api_client.get("/api/v1/public/catalog/").json()["dcat:dataset"]) == 6
    assert len(six.captured_queries) == len(one.captured_queries)


def test_the_migration_fills_coverage_in_and_passes_over_odd_records(owner_client, dataset, api_client, gates):
    send(owner_client, dataset, count_record(start="2026-01-05T10:00:00Z", end="2026-01-05T10:05:00Z"))
    if connection.vendor == "postgresql":
        # A record stored before the bounds existed: a BC timestamp, which Python cannot read.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO datasets_record (dataset_id, sensor_id, series, observed_from, observed_to, count_in, "
                "count_out, count) VALUES (%s, %s, '', '0001-12-31 19:00:00+00 BC', NULL, 1, 1, 2)",
                [dataset.pk, gates[1].pk],
            )
    Dataset.objects.filter(pk=dataset.pk).update(coverage_from=None, coverage_to=None)
    migration = importlib.import_module("datasets.migrations.0007_keep_coverage_with_the_dataset")
    migration.backfill_coverage(apps, None)
    assert coverage(dataset) == (datetime(2026, 1, 5, 10, tzinfo=UTC), datetime(2026, 1, 5, 10, 5, tzinfo=UTC))
    for path in [*PUBLIC, "/api/v1/datasets/{}/"]:
        client = owner_client if not path.startswith("/api/v1/public") else api_client
        assert client.get(path.format(dataset.pk)).status_code == 200, path
