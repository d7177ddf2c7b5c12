"""Storing checked rows: idempotent on the natural key, counting created/updated/unchanged, and
keeping the 15-minute rollups (per sensor and per area, datasets.rollups) current in the same transaction.

PostgreSQL: binary COPY into a temporary staging table, then one statement: INSERT ... ON CONFLICT
that updates only rows whose values changed (`xmax = 0` tells inserts from updates), with the new
rows added to their bucket's sensor and area rollups. When a batch corrected existing records, the
touched buckets are recomputed from the records, after locking their rollup rows. Batches to one
dataset run side by side (rows are taken in a fixed order, so they cannot deadlock); retention
excludes them with an advisory lock on the dataset.
Other databases (SQLite): the same result through the ORM.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import orjson
from django.db import connection
from django.db.models import Max, Min
from django.db.models.functions import Coalesce, Greatest, Least

from api.locks import LockNamespace, advisory_xact_lock
from datasets import partitions, rollups
from datasets.models import Dataset, Record
from datasets.records import Row

VALUE_FIELDS = ["observed_to", "count_in", "count_out", "count", "gauge", "data"]


@dataclass
class Stored:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def store(*, dataset: Dataset, rows: list[Row], batch_id: int | None) -> Stored:
    """Store rows of the dataset (inside the caller's transaction). The rollups follow its schema's measure
    kinds: pass the dataset with its schema version loaded (select_related), as ingest has it."""
    if not rows:
        return Stored()
    if connection.vendor == "postgresql":
        return _store_postgresql(dataset, rows, batch_id)
    return _store_generic(dataset, rows, batch_id)


def coverage_extend(dataset_id: int, rows: list[Row]) -> None:
    """Widen the dataset's coverage to the batch's rows (in the ingest transaction: one UPDATE, no read of
    the records). The row lock it takes is held only from here to the commit."""
    if not rows:
        return
    first = min(row.observed_from for row in rows)
    last = max(row.observed_to or row.observed_from for row in rows)
    Dataset.objects.filter(pk=dataset_id).update(
        coverage_from=Least(Coalesce("coverage_from", first), first),
        coverage_to=Greatest(Coalesce("coverage_to", last), last),
    )


def coverage_of_records(records) -> tuple[datetime | None, datetime | None]:
    """(first start, last end) of a queryset of records, computed in the database."""
    span = records.aggregate(first=Min("observed_from"), last=Max(Coalesce("observed_to", "observed_from")))
    return span["first"], span["last"]


def coverage_refresh(dataset_id: int) -> None:
    """Recompute the dataset's coverage from its records (after retention deleted some)."""
    first, last = coverage_of_records(Record.objects.unguarded("coverage").filter(dataset_id=dataset_id))
    Dataset.objects.filter(pk=dataset_id).update(coverage_from=first, coverage_to=last)


# PostgreSQL ----------------------------------------------------------------------------------------

STAGE = """
CREATE TEMPORARY TABLE IF NOT EXISTS ingest_stage (
    sensor_id bigint, series text, observed_from timestamptz, observed_to timestamptz,
    count_in bigint, count_out bigint, count bigint, gauge double precision, data text
) ON COMMIT DELETE ROWS
"""
COPY = (
    "COPY ingest_stage (sensor_id, series, observed_from, observed_to, count_in, count_out, count, gauge, data) "
    "FROM STDIN (FORMAT BINARY)"
)
COPY_TYPES = ["int8", "text", "timestamptz", "timestamptz", "int8", "int8", "int8", "float8", "text"]
# The records table is partitioned (docs/adr/0008), where RETURNING may not read xmax: a row is new when
# its id is one this statement drew for it (an updated row keeps the id it had).
UPSERT = """
WITH source AS MATERIALIZED (
    SELECT nextval('datasets_record_id_seq') AS id, * FROM (
        SELECT * FROM ingest_stage WHERE {subject}
        ORDER BY sensor_id, series, observed_from  -- every batch locks rows in the same order: no deadlocks
    ) ordered
), written AS (
    INSERT INTO datasets_record AS r
        (id, dataset_id, sensor_id, series, observed_from, observed_to, count_in, count_out, count, gauge, data,
         batch_id)
    SELECT id, %(dataset)s, sensor_id, series, observed_from, observed_to, count_in, count_out, count, gauge,
           data::jsonb, %(batch)s
    FROM source ORDER BY sensor_id, series, observed_from
    ON CONFLICT ({conflict}) WHERE {where}
    DO UPDATE SET observed_to = EXCLUDED.observed_to, count_in = EXCLUDED.count_in, count_out = EXCLUDED.count_out,
                  count = EXCLUDED.count, gauge = EXCLUDED.gauge, data = EXCLUDED.data, batch_id = EXCLUDED.batch_id
    WHERE (r.observed_to, r.count_in, r.count_out, r.count, r.gauge, r.data)
          IS DISTINCT FROM (EXCLUDED.observed_to, EXCLUDED.count_in, EXCLUDED.count_out, EXCLUDED.count,
                            EXCLUDED.gauge, EXCLUDED.data)
    RETURNING r.id, r.sensor_id, r.observed_from, r.observed_to, r.count_in, r.count_out, r.count, r.gauge, r.data
), upserted AS (
    SELECT w.*, EXISTS (SELECT 1 FROM source s WHERE s.id = w.id) AS inserted FROM written w
){rollup}
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
"""


# New records are added to their sensor's and their area's 15-minute rollups in the same statement (no
# read-back of the records; datasets.rollups.increment_sql, built from the schema's measure kinds); a batch
# that corrected records recomputes the touched buckets afterwards (datasets.rollups.refresh).
SERIES_UPSERT = UPSERT.format(
    subject="sensor_id IS NULL", conflict="dataset_id, series, observed_from", where="sensor_id IS NULL", rollup=""
)


@lru_cache(maxsize=64)
def sensor_upsert(plan: rollups.Plan) -> str:
    return UPSERT.format(
        subject="sensor_id IS NOT NULL",
        conflict="dataset_id, sensor_id, observed_from",
        where="sensor_id IS NOT NULL",
        rollup=rollups.increment_sql(plan),
    )


def lock_dataset(dataset_id: int, *, shared: bool = False) -> None:
    """Hold the dataset's lock until the end of the transaction (PostgreSQL only). Ingest batches take
    it shared (they run side by side); retention takes it exclusive (no batch runs meanwhile)."""
    advisory_xact_lock(LockNamespace.INGEST, dataset_id, shared=shared)


def _store_postgresql(dataset: Dataset, rows: list[Row], batch_id: int | None) -> Stored:
    # Every month of the batch has its partition (no query once this process has seen them; in the batch's
    # own transaction a missing month raises partitions.MonthsMissing: the service creates it outside).
    partitions.months_ensure(row.observed_from for row in rows)
    lock_dataset(dataset.pk, shared=True)
    params = {"dataset": dataset.pk, "batch": batch_id}
    with connection.cursor() as cursor:
        cursor.execute(STAGE)
        # Empty it now, not only at commit: an outer transaction (a demo load, a test) may hold several batches.
        cursor.execute("TRUNCATE ingest_stage")
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with raw.copy(COPY) as copy:
            copy.set_types(COPY_TYPES)
            dumps = orjson.dumps
            for row in rows:
                copy.write_row(
                    (row.sensor_id, row.series, row.observed_from, row.observed_to, row.count_in, row.count_out,
                     row.count, row.gauge, None if row.data is None else dumps(row.data).decode())
                )  # fmt: skip
        created = updated = 0
        has_series = any(row.sensor_id is None for row in rows)
        upsert = sensor_upsert(rollups.plan_for(dataset.schema_version))
        for statement in [upsert, SERIES_UPSERT] if has_series else [upsert]:
            cursor.execute(statement, params)
            inserted, changed = cursor.fetchone()
            created += inserted
            updated += changed
    if updated:
        # Corrected records: the batch's buckets recomputed in SQL from the records, keys from the staging table.
        rollups.refresh_staged(dataset)
    elif created:
        # New records of a sensor that moved inside a bucket: that bucket's areas counted again (sensors).
        rollups.moves_refresh(dataset)
    return Stored(created=created, updated=updated, unchanged=len(rows) - created - updated)


# Any database (SQLite) -----------------------------------------------------------------------------


def _store_generic(dataset: Dataset, rows: list[Row], batch_id: int | None) -> Stored:
    dataset_id = dataset.pk
    stored = Stored()
    starts = {row.observed_from for row in rows}
    existing = {
        (record.sensor_id, record.series, record.observed_from): record
        for record in Record.objects.unguarded("ingest").filter(dataset_id=dataset_id, observed_from__in=starts)
    }
    new, changed = [], []
    for row in rows:
        values = {name: getattr(row, name) for name in VALUE_FIELDS}
        record = existing.get((row.sensor_id, row.series, row.observed_from))
        if record is None:
            new.append(
                Record(
                    dataset_id=dataset_id,
                    sensor_id=row.sensor_id,
                    series=row.series,
                    observed_from=row.observed_from,
                    batch_id=batch_id,
                    **values,
                )  # fmt: skip
            )
        elif any(getattr(record, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(record, name, value)
            record.batch_id = batch_id
            changed.append(record)
    Record.objects.unguarded("ingest").bulk_create(new, batch_size=1000)
    Record.objects.unguarded("ingest").bulk_update(changed, [*VALUE_FIELDS, "batch_id"], batch_size=1000)
    stored.created, stored.updated = len(new), len(changed)
    stored.unchanged = len(rows) - stored.created - stored.updated
    rollups.refresh(dataset, rollups.touched_by(rows))
    return stored
