"""Keyset pages of records read no more rows than they return, however deep (issue 10, docs/adr/0008):
measured from the plan PostgreSQL executes (EXPLAIN ANALYZE of the selector's own queries)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from datasets import partitions, storage
from datasets.models import Record
from tests.purposes.test_guard import RECORDS, city_client  # noqa: F401 (a fixture)

PAGE = 50


def rows_read(sql: str) -> int:
    """Rows that the plan's scans of records produced (their actual rows, summed over the partitions)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def walk(node):
        own = node.get("Actual Rows", 0) * node.get("Actual Loops", 1) if "Scan" in node["Node Type"] else 0
        if own and not node.get("Relation Name", "").startswith("datasets_record"):
            own = 0
        return own + sum(walk(child) for child in node.get("Plans", []))

    return walk(plan[0]["Plan"])


def fill(dataset, sensors):
    """Two months of five-minute records of each sensor (over 17,000 each), written in SQL, and the dataset's
    coverage kept as ingest keeps it (pages are bounded by it)."""
    partitions.months_create(partitions.months_ahead(partitions.bounds(partitions.month_of_text("2026-02"))[0], 1))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO datasets_record (dataset_id, sensor_id, series, observed_from, observed_to, count_in, count_out)
            SELECT %s, s, '', t, t + interval '5 minutes', 10, 5
            FROM unnest(%s::bigint[]) s,
                 generate_series('2026-02-01T00:00Z'::timestamptz, '2026-03-31T23:55Z', interval '5 minutes') t
            """,
            [dataset.pk, [sensor.pk for sensor in sensors]],
        )
        cursor.execute("ANALYZE datasets_record")
    storage.coverage_refresh(dataset.pk)
    dataset.refresh_from_db()


def page_reads(client, params) -> tuple[int, int, str | None]:
    """(rows returned, rows read by the page's queries of records, next page's URL)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(params) if isinstance(params, str) else client.get(RECORDS, params)
    assert response.status_code == 200, response.content
    body = response.json()
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "datasets_record"' in q["sql"]]
    assert reads
    return len(body["results"]), sum(rows_read(sql) for sql in reads), body["next"]


@pytest.mark.parametrize("by_sensor", [False, True])
def test_a_deep_page_reads_no_more_rows_than_it_returns(world, city_client, by_sensor):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("plans are PostgreSQL's")
    from tests.datasets.conftest import make_sensor

    other = make_sensor(world["city"], world["city"], "gate-9")
    world["dataset"].sensors.add(other)
    fill(world["dataset"], [world["gate"], other])
    params = {"dataset": world["dataset"].pk, "purpose": "stad-crowd-safety", "page_size": PAGE}
    if by_sensor:
        params["sensor"] = [other.pk]
    # Deep: start from a cursor well into the data (the next link of a page read from the middle).
    params["from"] = "2026-03-20T00:00:00Z"
    returned, read, next_url = page_reads(city_client, params)
    assert returned == PAGE and next_url
    returned, read, _ = page_reads(city_client, next_url)
    assert returned == PAGE
    # One row more than the page (to know there is a next), and at most one probe per partition.
    assert read <= PAGE + 1 + len(partitions.existing()), read


def test_many_sensors_are_read_in_one_query_that_reads_no_more_rows_than_it_returns(world, city_client):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("plans are PostgreSQL's")
    from tests.datasets.conftest import make_sensor

    strangers = [make_sensor(world["city"], world["city"], f"stranger-{n}").pk for n in range(40)]
    other = make_sensor(world["city"], world["city"], "gate-9")
    world["dataset"].sensors.add(other)
    fill(world["dataset"], [world["gate"], other])
    # 300 ids, most of them no sensor of the dataset, many before the one that has rows (the review's case:
    # one query each took a worker past its timeout).
    asked = sorted({*strangers, other.pk, *range(other.pk + 1, other.pk + 259)})
    params = {"dataset": world["dataset"].pk, "purpose": "stad-crowd-safety", "page_size": PAGE, "sensor": asked}
    pages, seen = [], []
    url = None
    while len(pages) < 3:
        with CaptureQueriesContext(connection) as queries:
            response = city_client.get(url) if url else city_client.get(RECORDS, params)
        assert response.status_code == 200, response.content
        reads = [q["sql"] for q in queries.captured_queries if 'FROM "datasets_record"' in q["sql"]]
        assert len(reads) == 1, len(reads)
        body = response.json()
        pages.append(rows_read(reads[0]))
        seen += [(row["sensor"], row["observed_from"]) for row in body["results"]]
        url = body["next"]
    assert len(seen) == 3 * PAGE and seen == sorted(seen) and len(set(seen)) == len(seen)
    assert {sensor for sensor, _ in seen} == {other.pk}
    for read in pages:
        assert read <= PAGE + 1 + len(partitions.existing()), pages
    # A page that starts near the end of the first sensor's rows goes on with the second's first rows.
    first, second = sorted([world["gate"].pk, other.pk])
    last = Record.objects.unguarded("integrity").filter(sensor_id=first).order_by("-observed_from")[PAGE // 2]
    cursor_params = {**params, "sensor": [first, second], "from": last.observed_from.isoformat()}
    with CaptureQueriesContext(connection) as queries:
        response = city_client.get(RECORDS, cursor_params)
    body = response.json()
    (read,) = [rows_read(q["sql"]) for q in queries.captured_queries if 'FROM "datasets_record"' in q["sql"]]
    assert read <= PAGE + 1 + 2 * len(partitions.existing()), read
    assert [row["sensor"] for row in body["results"]] == [first] * (PAGE // 2 + 1) + [second] * (PAGE // 2 - 1)
