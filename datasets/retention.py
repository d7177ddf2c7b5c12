"""Retention: records older than their dataset's retention are deleted, in batches, and logged; rollups
are kept longer (Dataset.rollup_retention) and deleted by whole buckets (docs/adr/0009).

On PostgreSQL a monthly partition of records (datasets.partitions) goes whole, in one DROP, when every row
in it is expired for its own dataset; the rest is deleted in the primary key's order (dataset_id,
observed_from, id), a range at a time, without a sort (docs/adr/0008).
"""

import logging
from datetime import datetime, timedelta

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from api.locks import LockNamespace, advisory_xact_lock
from datasets import partitions, rollups, storage
from datasets.models import AreaRollup, Dataset, Record, RecordRollup, RetentionRun

DELETE_BATCH = 10_000
log = logging.getLogger(__name__)


def dataset_retention_enforce(*, dataset: Dataset, now: datetime | None = None, batch_size: int = DELETE_BATCH):
    """Delete the dataset's records observed before now - retention, and its rollups older than their own
    (longer) retention. Returns the run.

    First drops the monthly partitions whose rows are all expired (every dataset's: the run records which,
    with each dataset's number of records in them), then deletes the dataset's other expired records."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=dataset.retention_days)
    dropped = partitions_drop_expired(now)
    deleted = sum(entry["records"].get(str(dataset.pk), 0) for entry in dropped)
    edge = None
    while True:
        with transaction.atomic():
            storage.lock_dataset(dataset.pk)
            removed, edge = _records_delete_batch(dataset.pk, cutoff, batch_size, edge)
        if not removed:
            break
        deleted += removed
    with transaction.atomic():
        storage.lock_dataset(dataset.pk)
        # Rollups survive their records and have their own, longer retention (ADR 0009): whole buckets that
        # ended before the rollup cutoff go.
        rollups_deleted = rollups_retention_enforce(dataset, now)
        if deleted:
            storage.coverage_refresh(dataset.pk)
        return RetentionRun.objects.create(
            dataset=dataset,
            cutoff=cutoff,
            records_deleted=deleted,
            rollups_deleted=rollups_deleted,
            partitions_dropped=dropped,
        )


def rollups_retention_enforce(dataset: Dataset, now: datetime) -> int:
    """Delete the dataset's sensor and area rollups of buckets that end before now - rollup retention (inside
    the caller's transaction, the dataset locked); returns how many rows went."""
    boundary = rollups.bucket_of(now - dataset.rollup_retention)
    deleted = RecordRollup.objects.unguarded("retention").filter(dataset=dataset, bucket__lt=boundary).delete()[0]
    return deleted + AreaRollup.objects.unguarded("retention").filter(dataset=dataset, bucket__lt=boundary).delete()[0]


def _records_delete_batch(dataset_id: int, cutoff: datetime, batch_size: int, after: datetime | None):
    """Delete about `batch_size` of the dataset's oldest expired records after `after` (the previous batch's
    edge); returns (how many went, this batch's edge). The batch ends at the start of its last row, found in
    the primary key's order (no sort, no list of ids); rows sharing that start go with it. Starting after
    the previous edge, a batch does not walk the index entries of the rows deleted before it (quadratic in
    the batches otherwise). A late row that arrives behind the edge during the run goes in the next run."""
    expired = Record.objects.unguarded("retention").filter(dataset_id=dataset_id, observed_from__lt=cutoff)
    if after is not None:
        expired = expired.filter(observed_from__gt=after)
    edge = list(expired.order_by("observed_from", "id").values_list("observed_from", flat=True)[batch_size - 1 :][:1])
    if edge:
        expired = expired.filter(observed_from__lte=edge[0])
    return expired.delete()[0], edge[0] if edge else after


def partitions_drop_expired(now: datetime) -> list[dict]:
    """Drop each monthly partition of records whose rows are all expired, each for its own dataset
    (PostgreSQL; nothing elsewhere). Returns [{partition, from, to, records: {dataset id: n}}], logged."""
    if not partitions.enabled():
        return []
    retention = dict(Dataset.objects.values_list("pk", "retention_days"))
    if not retention:
        return []
    cutoffs = {pk: now - timedelta(days=days) for pk, days in retention.items()}
    latest = max(cutoffs.values())  # the cutoff of the shortest retention
    dropped = []
    for partition in partitions.existing():
        if partition.start is None or partition.end > latest:
            continue  # the default partition, or a month that ends after every dataset's cutoff (this month...)
        if _holds_live_records(partition, cutoffs):
            continue
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                advisory_xact_lock(LockNamespace.PARTITIONS, 0)
                # Locked, then checked again: no batch may add a live row between the check and the drop. The
                # lock waits LOCK_TIMEOUT at most: a long read holding the table must not queue every read
                # and batch of every dataset behind this one; the month is dropped by a later run.
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [partitions.LOCK_TIMEOUT])
                cursor.execute(f"LOCK TABLE {partitions.TABLE} IN ACCESS EXCLUSIVE MODE")
                cursor.execute("SELECT set_config('lock_timeout', '0', true)")
                if _holds_live_records(partition, cutoffs):
                    continue
                cursor.execute(f"SELECT dataset_id, count(*) FROM {partition.name} GROUP BY dataset_id")  # noqa: S608
                counts = {str(dataset_id): n for dataset_id, n in cursor.fetchall()}
                cursor.execute(f"DROP TABLE {partition.name}")
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            log.warning("retention left partition %s for a later run: records are busy (%s)", partition.name, error)
            continue
        entry = {
            "partition": partition.name,
            "from": partition.start.isoformat(),
            "to": partition.end.isoformat(),
            "records": counts,
        }
        log.info("retention dropped partition %s (%s to %s): records per dataset %s", *entry.values())
        dropped.append(entry)
    if dropped:
        partitions.forget()
        for dataset_id in sorted({int(pk) for entry in dropped for pk in entry["records"]}):
            storage.coverage_refresh(dataset_id)
    return dropped


def _holds_live_records(partition: partitions.Partition, cutoffs: dict[int, datetime]) -> bool:
    """Whether any row of the partition is live: a dataset that has rows there (a loose scan of the primary
    key, one probe per dataset present) is unknown (its records are orphans: kept for integrity's check), or
    its cutoff falls inside the month and it has rows after it (one probe of the primary key)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE present (dataset_id) AS (
                SELECT min(dataset_id) FROM {partition.name}
                UNION ALL
                SELECT (SELECT min(dataset_id) FROM {partition.name} WHERE dataset_id > present.dataset_id)
                FROM present WHERE present.dataset_id IS NOT NULL
            )
            SELECT dataset_id FROM present WHERE dataset_id IS NOT NULL
            """  # noqa: S608
        )
        present = [row[0] for row in cursor.fetchall()]
        for dataset_id in present:
            cutoff = cutoffs.get(dataset_id)
            if cutoff is None:
                return True
            if cutoff >= partition.end:
                continue  # all of this dataset's rows in the month are expired
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {partition.name} WHERE dataset_id = %s AND observed_from >= %s)",  # noqa: S608
                [dataset_id, cutoff],
            )
            if cursor.fetchone()[0]:
                return True
    return False
