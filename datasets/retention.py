"""Retention: records older than their dataset's retention are deleted, in batches, and logged; rollups
are kept longer (Dataset.rollup_retention) and deleted by whole buckets."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from datasets import rollups, storage
from datasets.models import AreaRollup, Dataset, Record, RecordRollup, RetentionRun

DELETE_BATCH = 10_000


def dataset_retention_enforce(*, dataset: Dataset, now: datetime | None = None, batch_size: int = DELETE_BATCH):
    """Delete the dataset's records observed before now - retention, and its rollups older than their own
    (longer) retention. Returns the run."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=dataset.retention_days)
    deleted = 0
    while True:
        with transaction.atomic():
            storage.lock_dataset(dataset.pk)
            ids = list(
                Record.objects.unguarded("retention")
                .filter(dataset=dataset, observed_from__lt=cutoff)
                .order_by("observed_from")
                .values_list("id", flat=True)[:batch_size]
            )
            if not ids:
                break
            deleted += Record.objects.unguarded("retention").filter(id__in=ids).delete()[0]
    with transaction.atomic():
        storage.lock_dataset(dataset.pk)
        # Rollups survive their records and have their own, longer retention (ADR 0009): whole buckets that
        # ended before the rollup cutoff go.
        rollups_deleted = rollups_retention_enforce(dataset, now)
        if deleted:
            storage.coverage_refresh(dataset.pk)
        return RetentionRun.objects.create(
            dataset=dataset, cutoff=cutoff, records_deleted=deleted, rollups_deleted=rollups_deleted
        )


def rollups_retention_enforce(dataset: Dataset, now: datetime) -> int:
    """Delete the dataset's sensor and area rollups of buckets that end before now - rollup retention (inside
    the caller's transaction, the dataset locked); returns how many rows went."""
    boundary = rollups.bucket_of(now - dataset.rollup_retention)
    deleted = RecordRollup.objects.unguarded("retention").filter(dataset=dataset, bucket__lt=boundary).delete()[0]
    return deleted + AreaRollup.objects.unguarded("retention").filter(dataset=dataset, bucket__lt=boundary).delete()[0]
