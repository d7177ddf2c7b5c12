"""Reads for datasets: the public catalogue, coverage in space and time."""

from django.db.models import Max, Min, QuerySet

from datasets.models import AccessClassification, Dataset, DatasetStatus, Record, RecordRollup


def public_datasets() -> QuerySet[Dataset]:
    """The catalogue: active datasets that are not restricted."""
    return (
        Dataset.objects.filter(status=DatasetStatus.ACTIVE)
        .exclude(access=AccessClassification.RESTRICTED)
        .select_related("owner", "schema_version__schema")
        .prefetch_related("sensors", "areas")
    )


def dataset_bbox(dataset: Dataset) -> list[float] | None:
    """[min_lon, min_lat, max_lon, max_lat] of the dataset's sensors and areas."""
    lons, lats = [], []
    for sensor in dataset.sensors.all():
        if sensor.latitude is not None:
            lons.append(sensor.longitude)
            lats.append(sensor.latitude)
    for area in dataset.areas.all():
        lons += [area.min_lon, area.max_lon]
        lats += [area.min_lat, area.max_lat]
    if not lons:
        return None
    return [min(lons), min(lats), max(lons), max(lats)]


def dataset_time_span(dataset: Dataset) -> dict | None:
    """First and last observation: from the hourly rollup (indexed) for sensor data, else the records."""
    span = RecordRollup.objects.filter(dataset=dataset).aggregate(start=Min("bucket"), end=Max("bucket"))
    if span["start"] is None:
        span = Record.objects.filter(dataset=dataset).aggregate(start=Min("observed_from"), end=Max("observed_from"))
    if span["start"] is None:
        return None
    return {"start": span["start"], "end": span["end"]}
