"""Checks of what the database no longer enforces row by row (docs/adr/0008: records carry no per-row
foreign keys): records whose dataset or sensor does not exist."""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q

from datasets.models import Dataset, Record
from sensors.models import Sensor


@dataclass(frozen=True)
class Orphans:
    dataset_id: int
    sensor_id: int | None
    records: int
    dataset_missing: bool
    sensor_missing: bool


def records_orphaned(*, dataset_id: int | None = None, limit: int = 1000) -> list[Orphans]:
    """(dataset, sensor) pairs of records whose dataset or sensor does not exist, with how many records;
    empty when every reference holds. One grouped query (anti-joins on the primary keys)."""
    records = Record.objects.unguarded("integrity")
    if dataset_id is not None:
        records = records.filter(dataset_id=dataset_id)
    dataset_exists = Exists(Dataset.objects.filter(pk=OuterRef("dataset_id")))
    sensor_exists = Exists(Sensor.objects.filter(pk=OuterRef("sensor_id")))
    found = (
        records.annotate(has_dataset=dataset_exists, has_sensor=sensor_exists)
        .filter(Q(has_dataset=False) | Q(sensor_id__isnull=False, has_sensor=False))
        .values("dataset_id", "sensor_id", "has_dataset", "has_sensor")
        .annotate(records=Count("*"))
        .order_by("dataset_id", "sensor_id")[:limit]
    )
    return [
        Orphans(
            dataset_id=row["dataset_id"],
            sensor_id=row["sensor_id"],
            records=row["records"],
            dataset_missing=not row["has_dataset"],
            sensor_missing=row["sensor_id"] is not None and not row["has_sensor"],
        )
        for row in found
    ]
