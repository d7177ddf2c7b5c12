"""The records table's layout (issue 10, docs/adr/0008): keys, monthly partitions, the migration there and
back, partitions made by ingest and by command, retention by partition and in key order, integrity."""

import json
import logging
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from datasets import integrity, partitions, services
from datasets.models import Dataset, Record, RecordRollup, RetentionRun
from datasets.retention import dataset_retention_enforce
from tests.datasets.conftest import count_record, make_dataset, make_sensor
from tests.factories import api_key_for

POSTGRES = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="partitions are PostgreSQL's")
# Back before the layout (0008) and forward again to the latest (0009, the rollups, follows it).
BEFORE, AFTER = (
    ("datasets", "0007_keep_coverage_with_the_dataset"),
    ("datasets", "0009_rollups_by_kind_15_minutes_and_areas"),
)


@pytest.fixture
def ingest_creates_any_month(monkeypatch):
    """Lift ingest's bounds on the months it creates (for tests of creating months, at fixed past dates)."""
    monkeypatch.setattr(partitions, "INGEST_MONTHS_BEFORE", 10**6)
    monkeypatch.setattr(partitions, "INGEST_NEW_MONTHS", 10**6)


@contextmanager
def held(table: str, seconds: float = 4.0):
    """Another session holds ACCESS SHARE on `table` (a long read) for at most `seconds`."""
    import psycopg

    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"] or None,
        password=settings["PASSWORD"] or None,
    )  # fmt: skip
    other.execute("SET lock_timeout = '5s'")  # never hang the test
    other.execute(f"LOCK TABLE ONLY {table} IN ACCESS SHARE MODE")
    timer = threading.Timer(seconds, other.rollback)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        other.close()


def ingest(dataset, rows, organisation=None):
    from tests.purposes.conftest import as_role

    return services.records_ingest(
        caller=as_role(organisation or dataset.owner, Role.INTEGRATOR),
        dataset=dataset,
        body=json.dumps({"records": rows}).encode(),
        content_type="application/json",
    )


def five_minutes(sensor, first: datetime, n: int, count_in=3) -> list[dict]:
    rows = []
    for i in range(n):
        start = first + timedelta(minutes=5 * i)
        rows.append(count_record(sensor=sensor, start=start.isoformat(), end=(start + timedelta(minutes=5)).isoformat(),
                                 count_in=count_in + i % 4))  # fmt: skip
    return rows


def retain(*datasets_and_days) -> None:
    """Set retentions after ingest: records older than a dataset's retention are refused at ingest
    (`older_than_retention`), so the tests store first and shorten the retention afterwards."""
    for dataset, days in datasets_and_days:
        Dataset.objects.filter(pk=dataset.pk).update(retention_days=days)
        dataset.refresh_from_db()


def where_rows_are() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text, count(*) FROM datasets_record GROUP BY 1")
        return dict(cursor.fetchall())


def snapshot():
    records = sorted(
        Record.objects.unguarded("integrity").values_list("id", "dataset_id", "sensor_id", "observed_from", "count_in")
    )
    # Per hour: going back before 0009 turns the 15-minute rollup into the hourly one it was (and back).
    hours: dict[tuple, list[int]] = {}
    for dataset_id, sensor_id, bucket, n, count_in in RecordRollup.objects.unguarded("integrity").values_list(
        "dataset_id", "sensor_id", "bucket", "records", "count_in"
    ):
        totals = hours.setdefault((dataset_id, sensor_id, bucket.replace(minute=0)), [0, 0])
        totals[0] += n
        totals[1] += count_in
    return records, sorted(hours.items())


def primary_key() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.attname FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = 'datasets_record'::regclass AND i.indisprimary
            ORDER BY array_position(i.indkey::int2[], a.attnum)
            """
        )
        return [row[0] for row in cursor.fetchall()]


def foreign_keys() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'datasets_record'::regclass AND contype = 'f'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_moves_records_to_the_partitioned_table_and_back(city, gates):
    dataset = make_dataset(city, sensors=gates)
    ingest(dataset, five_minutes("gate-1", datetime(2025, 11, 30, 22, tzinfo=UTC), 60)
           + five_minutes("gate-2", datetime(2026, 2, 28, 23, tzinfo=UTC), 30))  # fmt: skip
    before = snapshot()
    assert len(before[0]) == 90 and before[1]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([BEFORE])
        partitions.forget()
        assert snapshot() == before
        if connection.vendor == "postgresql":
            assert primary_key() == ["id"] and foreign_keys() == 2
            assert partitions.existing() == [] and set(where_rows_are()) == {"datasets_record"}
        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])
        partitions.forget()
        assert snapshot() == before
        if connection.vendor == "postgresql":
            assert primary_key() == ["dataset_id", "observed_from", "id"] and foreign_keys() == 0
            assert where_rows_are() == {"datasets_record_p2025_11": 24, "datasets_record_p2025_12": 36,
                                        "datasets_record_p2026_02": 12, "datasets_record_p2026_03": 18}  # fmt: skip
        # Ingest goes on where it stood: new ids, no collision with the moved rows.
        answer = ingest(dataset, five_minutes("gate-1", datetime(2025, 12, 1, 9, tzinfo=UTC), 2))
        assert answer.body["created"] == 2
        assert Record.objects.unguarded("integrity").count() == 92
        assert min(
            Record.objects.unguarded("integrity").filter(observed_from__hour=9).values_list("id", flat=True)
        ) > max(row[0] for row in before[0])
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        partitions.forget()


@POSTGRES
def test_records_partitions_creates_months_ahead_and_moves_rows_out_of_the_default(city, gates):
    dataset = make_dataset(city, sensors=gates)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO datasets_record (dataset_id, sensor_id, series, observed_from) VALUES (%s, %s, '', %s)",
            [dataset.pk, gates[0].pk, datetime(2019, 7, 4, 12, tzinfo=UTC)],
        )
    assert where_rows_are() == {"datasets_record_default": 1}
    out = StringIO()
    call_command("records_partitions", ahead=2, stdout=out)
    assert "created datasets_record_p2019_07" in out.getvalue()
    assert where_rows_are() == {"datasets_record_p2019_07": 1}
    months = {p.start.date().isoformat()[:7] for p in partitions.existing() if p.start}
    now = datetime.now(UTC)
    assert {m.isoformat()[:7] for m in partitions.months_ahead(now, 2)} <= months
    assert "datasets_record_default: default" in out.getvalue()
    again = StringIO()
    call_command("records_partitions", ahead=2, stdout=again)
    assert "created" not in again.getvalue()  # nothing left to create


@POSTGRES
def test_a_batch_into_a_month_without_partition_creates_it(dataset, ingest_creates_any_month):
    partitions.forget()
    answer = ingest(dataset, five_minutes("gate-1", datetime(2020, 3, 31, 23, 50, tzinfo=UTC), 4))
    assert answer.body["created"] == 4
    assert where_rows_are() == {"datasets_record_p2020_03": 2, "datasets_record_p2020_04": 2}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_batches_reaching_new_months_create_them_once_and_store_everything(
    live_server, city, ingest_creates_any_month
):
    if connection.vendor != "postgresql":
        pytest.skip("partitions are PostgreSQL's")
    sensors = [make_sensor(city, city, f"m{n}") for n in range(2)]
    dataset = make_dataset(city, sensors=sensors)
    _, key = api_key_for(city, role=Role.INTEGRATOR)
    partitions.forget()

    def send(client: int) -> list[int]:
        statuses = []
        for month in range(1, 5):  # every client reaches the same four new months at about the same time
            rows = five_minutes(f"m{client}", datetime(2020, month + 6, 3, tzinfo=UTC), 50)
            request = urllib.request.Request(  # noqa: S310
                f"{live_server.url}/api/v1/datasets/{dataset.pk}/records/", data=json.dumps({"records": rows}).encode(),
                method="POST", headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
            )  # fmt: skip
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                statuses.append(response.status)
        return statuses

    with ThreadPoolExecutor(2) as pool:
        statuses = [s for result in pool.map(send, range(2)) for s in result]
    assert statuses == [201] * 8
    assert where_rows_are() == {f"datasets_record_p2020_{m + 6:02d}": 100 for m in range(1, 5)}
    assert RecordRollup.objects.unguarded("integrity").filter(dataset=dataset).aggregate(n=Sum("records"))["n"] == 400


@POSTGRES
def test_retention_drops_a_month_whose_rows_are_all_expired_and_logs_it(city, gates, ingest_creates_any_month):
    short = make_dataset(city, sensors=gates)
    long = make_dataset(city, sensors=gates, title="long")
    now = datetime(2021, 1, 10, tzinfo=UTC)
    ingest(
        short,
        five_minutes("gate-1", datetime(2020, 6, 1, tzinfo=UTC), 10)
        + five_minutes("gate-1", now - timedelta(days=2), 5),
    )
    ingest(long, five_minutes("gate-2", datetime(2020, 6, 1, tzinfo=UTC), 4))
    retain((short, 30), (long, 3650))
    run = dataset_retention_enforce(dataset=short, now=now)
    # June 2030 also holds rows the long dataset keeps: only the short dataset's rows go, by key.
    assert run.partitions_dropped == [] and run.records_deleted == 10
    assert where_rows_are() == {"datasets_record_p2020_06": 4, "datasets_record_p2021_01": 5}
    Dataset.objects.filter(pk=long.pk).update(retention_days=30)
    long.refresh_from_db()
    run = dataset_retention_enforce(dataset=long, now=now)
    assert [entry["partition"] for entry in run.partitions_dropped] == ["datasets_record_p2020_06"]
    assert run.partitions_dropped[0]["records"] == {str(long.pk): 4} and run.records_deleted == 4
    assert "datasets_record_p2020_06" not in {p.name for p in partitions.existing()}
    assert where_rows_are() == {"datasets_record_p2021_01": 5}
    long.refresh_from_db()
    assert long.coverage_from is None  # its coverage follows the dropped rows
    assert RetentionRun.objects.filter(dataset=long).get().partitions_dropped == run.partitions_dropped


@POSTGRES
def test_a_batch_creates_at_most_two_months_near_now_and_the_rest_waits_in_the_default(dataset):
    """Review F1: one batch of a record a month over 37 years created 437 partitions, for every tenant."""
    partitions.forget()
    before = {p.name for p in partitions.existing()}
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    far = [datetime(year, month, 3, 10, tzinfo=UTC) for year in (2020, 2021) for month in range(1, 13)]
    rows = [row for start in far for row in five_minutes("gate-1", start, 1)]
    answer = ingest(dataset, rows + five_minutes("gate-1", now - timedelta(hours=2), 1))
    assert answer.body["created"] == 25
    new = {p.name for p in partitions.existing()} - before
    assert len(new) <= partitions.INGEST_NEW_MONTHS and not any("_p2020" in n or "_p2021" in n for n in new), new
    assert where_rows_are()["datasets_record_default"] == 24
    # The daily command empties the default, one month per transaction.
    out = StringIO()
    call_command("records_partitions", ahead=0, stdout=out)
    assert out.getvalue().count("created datasets_record_p202") == 24
    assert "datasets_record_default" not in where_rows_are()
    assert Record.objects.unguarded("integrity").filter(dataset=dataset).count() == 25


@POSTGRES
def test_a_month_is_not_created_while_the_default_partition_is_busy_and_the_batch_is_stored(
    dataset, monkeypatch, caplog
):
    monkeypatch.setattr(partitions, "LOCK_TIMEOUT", "200ms")
    partitions.forget()
    month = partitions.month_of(datetime.now(UTC))
    for _ in range(partitions.INGEST_MONTHS_BEFORE):
        month = partitions.month_of(partitions.bounds(month)[0] - timedelta(days=1))
    assert month not in partitions.months_existing()
    with held(partitions.DEFAULT), caplog.at_level(logging.WARNING, logger="datasets.partitions"):
        answer = ingest(dataset, five_minutes("gate-1", partitions.bounds(month)[0] + timedelta(days=2), 3))
        assert answer.body["created"] == 3
        assert month not in partitions.months_existing()
        assert where_rows_are() == {"datasets_record_default": 3}
        assert "the default partition is busy" in caplog.text
        with pytest.raises(CommandError, match="busy"):
            call_command("records_partitions", ahead=0, stdout=StringIO())
    call_command("records_partitions", ahead=0, stdout=StringIO())
    assert where_rows_are() == {partitions.name_of(month): 3}


@POSTGRES
@pytest.mark.parametrize("ahead", [-1, 37, 100_000])
def test_records_partitions_refuses_an_ahead_out_of_bounds(db, ahead):
    before = partitions.existing()
    with pytest.raises(CommandError, match="--ahead must be from 0 to 36"):
        call_command("records_partitions", ahead=ahead, stdout=StringIO())
    assert partitions.existing() == before


@POSTGRES
def test_retention_drops_a_month_that_holds_only_a_short_retention_s_rows(city, gates, ingest_creates_any_month):
    """Review F5: a dataset that keeps records for years kept every month from being dropped."""
    short = make_dataset(city, sensors=gates)
    long = make_dataset(city, sensors=gates, title="long")
    now = datetime(2021, 1, 10, tzinfo=UTC)
    ingest(short, five_minutes("gate-1", datetime(2020, 6, 1, tzinfo=UTC), 10))
    ingest(long, five_minutes("gate-2", datetime(2020, 9, 1, tzinfo=UTC), 4))
    retain((short, 30), (long, 3650))
    run = dataset_retention_enforce(dataset=short, now=now)
    assert [entry["partition"] for entry in run.partitions_dropped] == ["datasets_record_p2020_06"]
    assert run.partitions_dropped[0]["records"] == {str(short.pk): 10} and run.records_deleted == 10
    assert where_rows_are() == {"datasets_record_p2020_09": 4}


@POSTGRES
def test_retention_leaves_a_month_for_later_when_records_are_busy(
    city, gates, monkeypatch, caplog, ingest_creates_any_month
):
    monkeypatch.setattr(partitions, "LOCK_TIMEOUT", "200ms")
    short = make_dataset(city, sensors=gates)
    ingest(short, five_minutes("gate-1", datetime(2020, 6, 1, tzinfo=UTC), 10))
    retain((short, 30))
    with held(partitions.TABLE), caplog.at_level(logging.WARNING, logger="datasets.retention"):
        run = dataset_retention_enforce(dataset=short, now=datetime(2021, 1, 10, tzinfo=UTC))
    assert run.partitions_dropped == [] and run.records_deleted == 10  # deleted by key instead
    assert "datasets_record_p2020_06" in {p.name for p in partitions.existing()}
    assert "left partition datasets_record_p2020_06 for a later run" in caplog.text


@pytest.mark.smoke
def test_retention_deletes_in_key_order_in_batches_without_a_sort(city, gates):
    dataset = make_dataset(city, sensors=gates)
    now = datetime(2021, 1, 10, tzinfo=UTC)
    cutoff = now - timedelta(days=30)
    ingest(
        dataset,
        five_minutes("gate-1", cutoff - timedelta(minutes=35), 14)
        + five_minutes("gate-2", cutoff - timedelta(minutes=35), 14),
    )
    dataset.retention_days = 30  # once stored (today, ingest refuses records older than the retention)
    dataset.save(update_fields=["retention_days"])
    with CaptureQueriesContext(connection) as queries:
        run = dataset_retention_enforce(dataset=dataset, now=now, batch_size=3)
    assert run.records_deleted == 14  # 7 of each sensor before the cutoff
    kept = Record.objects.unguarded("integrity").filter(dataset=dataset)
    assert kept.count() == 14 and not kept.filter(observed_from__lt=cutoff).exists()
    if connection.vendor == "postgresql":
        edges = [q["sql"] for q in queries.captured_queries if "OFFSET" in q["sql"] and "datasets_record" in q["sql"]]
        assert edges
        with connection.cursor() as cursor:
            # On a few rows a sort costs nothing and the planner may choose one: forbid it, so that a Sort in
            # the plan means that no index gives this order.
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute(f"EXPLAIN {edges[0]}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Sort  (cost" not in plan and "pkey" in plan, plan  # a Sort node; Merge Append keeps order


@POSTGRES
def test_a_dataset_and_time_range_is_read_from_the_primary_key_without_a_sort(dataset, ingest_creates_any_month):
    ingest(dataset, five_minutes("gate-1", datetime(2026, 1, 5, tzinfo=UTC), 20))
    week = Record.objects.unguarded("integrity").filter(
        dataset=dataset,
        observed_from__gte=datetime(2026, 1, 5, tzinfo=UTC),
        observed_from__lt=datetime(2026, 1, 12, tzinfo=UTC),
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")  # a Sort left in the plan: no index gives this order
    plan = week.order_by("observed_from", "id")[:100].explain()
    assert "pkey" in plan and "Sort  (cost" not in plan, plan
    assert "datasets_record_p2026_01" in plan and "datasets_record_p2026_02" not in plan, plan  # one month opened


@pytest.mark.smoke
def test_integrity_lists_records_whose_dataset_or_sensor_is_gone(dataset, gates):
    ingest(dataset, five_minutes("gate-1", datetime(2026, 1, 5, tzinfo=UTC), 2))
    assert integrity.records_orphaned() == []
    with connection.cursor() as cursor:
        for dataset_id, sensor_id in [(dataset.pk, 987_654), (876_543, gates[0].pk), (876_543, gates[0].pk)]:
            cursor.execute(
                "INSERT INTO datasets_record (dataset_id, sensor_id, series, observed_from) VALUES (%s, %s, '', %s)",
                [
                    dataset_id,
                    sensor_id,
                    datetime(2026, 1, 6, tzinfo=UTC) + timedelta(minutes=5 * len(integrity.records_orphaned())),
                ],
            )
    found = integrity.records_orphaned()
    assert found == [
        integrity.Orphans(dataset.pk, 987_654, 1, dataset_missing=False, sensor_missing=True),
        integrity.Orphans(876_543, gates[0].pk, 2, dataset_missing=True, sensor_missing=False),
    ]
    assert integrity.records_orphaned(dataset_id=dataset.pk) == found[:1]


@pytest.mark.smoke
def test_deleting_a_dataset_deletes_its_records(city, gates, dataset):
    other = make_dataset(city, sensors=gates, title="other")
    ingest(dataset, five_minutes("gate-1", datetime(2026, 1, 5, tzinfo=UTC), 3))
    ingest(other, five_minutes("gate-1", datetime(2026, 1, 5, tzinfo=UTC), 2))
    dataset.delete()
    assert Record.objects.unguarded("integrity").count() == 2
    assert integrity.records_orphaned() == []


@POSTGRES
def test_retention_batches_do_not_walk_the_rows_earlier_batches_deleted(city, gates):
    """Each batch starts where the one before it ended: a batch that started at the dataset's first key
    would walk the index entries of every row deleted before it (quadratic in the batches; bench/README.md,
    Storage). Measured as the buffers each batch's edge query touches (EXPLAIN ANALYZE, BUFFERS)."""
    dataset = make_dataset(city, sensors=gates)
    now = datetime(2021, 1, 10, tzinfo=UTC)
    first = now - timedelta(days=40)
    ingest(dataset, five_minutes("gate-1", first, 1500) + five_minutes("gate-2", first, 1500))
    retain((dataset, 30))
    touched, inside = [], []

    def measure(execute, sql, params, many, context):
        if "OFFSET" in sql and "datasets_record" in sql and not inside:
            inside.append(True)
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
            touched.append(plan[0]["Plan"]["Shared Hit Blocks"] + plan[0]["Plan"]["Shared Read Blocks"])
            inside.clear()
        return execute(sql, params, many, context)

    with connection.cursor() as cursor:
        # Plans as on a large table (a few thousand rows would be read whole and sorted).
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off")
    with connection.execute_wrapper(measure):
        run = dataset_retention_enforce(dataset=dataset, now=now, batch_size=100)
    assert run.records_deleted == 3000 and len(touched) >= 30
    # The last batches touch about as many buffers as the first, not thirty times as many.
    assert max(touched[-5:]) <= 2 * touched[0] + 5, touched
