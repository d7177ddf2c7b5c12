"""Retention: records older than their dataset's retention are deleted, in batches, and logged."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from datasets import storage
from datasets.models import Dataset, Record, RecordRollup, RetentionRun

DELETE_BATCH = 10_000


def dataset_retention_enforce(*, dataset: Dataset, now: datetime | None = None, batch_size: int = DELETE_BATCH):
    """Delete the dataset's records observed before now - retention; rollups follow. Returns the run."""
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
        # Hours wholly before the cutoff go; the hour that holds the cutoff is recomputed.
        boundary = storage.hour_of(cutoff)
        rollups_deleted = (
            RecordRollup.objects.unguarded("retention").filter(dataset=dataset, bucket__lt=boundary).delete()[0]
        )
        sensors = (
            RecordRollup.objects.unguarded("retention")
            .filter(dataset=dataset, bucket=boundary)
            .values_list("sensor_id", flat=True)
        )
        storage.rollups_refresh(dataset.pk, {(sensor_id, boundary) for sensor_id in sensors})
        if deleted:
            storage.coverage_refresh(dataset.pk)
        return RetentionRun.objects.create(
            dataset=dataset, cutoff=cutoff, records_deleted=deleted, rollups_deleted=rollups_deleted
        )
