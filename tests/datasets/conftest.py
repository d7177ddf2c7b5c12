"""Fixtures for datasets: a city with active sensors, a vendor operating one, and datasets."""

from datetime import UTC, datetime

import pytest

from accounts.models import OrganisationKind, Role
from datasets.models import AccessClassification, Dataset, DatasetStatus, SchemaVersion
from sensors.models import Sensor, SensorStatus, SensorType
from tests.factories import OrganisationFactory

RECORDS = "/api/v1/datasets/{}/records/"


def make_sensor(controller, operator, reference, **extra):
    return Sensor.objects.create(
        controller=controller,
        operator=operator,
        sensor_type=SensorType.objects.get(code="lidar-counter"),
        reference=reference,
        name=reference,
        latitude=52.0,
        longitude=5.0,
        personal_data_at_edge=False,
        status=extra.pop("status", SensorStatus.ACTIVE),
        installed_at=extra.pop("installed_at", datetime(2020, 1, 1, tzinfo=UTC)),
        **extra,
    )


@pytest.fixture
def city(db):
    return OrganisationFactory(kind=OrganisationKind.MUNICIPALITY, slug="stad", name="Gemeente Stad")


@pytest.fixture
def vendor(db):
    return OrganisationFactory(kind=OrganisationKind.VENDOR, slug="leverancier", name="Leverancier BV")


@pytest.fixture
def gates(city, vendor):
    """Two counters at gates: gate-1 run by the city itself, gate-2 by the vendor."""
    return make_sensor(city, city, "gate-1"), make_sensor(city, vendor, "gate-2")


def make_dataset(owner, code="crowd-count-line", sensors=(), **extra):
    dataset = Dataset.objects.create(
        owner=owner,
        schema_version=SchemaVersion.objects.get(schema__code=code, version="1.0.0"),
        title=extra.pop("title", f"{code} of {owner.name}"),
        description="Test data",
        contact_point="data@stad.example",
        access=extra.pop("access", AccessClassification.OPEN_AGGREGATE),
        status=extra.pop("status", DatasetStatus.ACTIVE),
        # Test data lies in the past (2020 and on): ingest refuses records older than the retention, so a test
        # dataset keeps records as long as the demo's historical ones do, unless the test says otherwise.
        retention_days=extra.pop("retention_days", 36_500),
        **extra,
    )
    dataset.sensors.set(sensors)
    return dataset


@pytest.fixture
def dataset(city, gates):
    return make_dataset(city, sensors=gates)


@pytest.fixture
def owner_client(city, key_client):
    return key_client(city, Role.INTEGRATOR)


@pytest.fixture
def vendor_client(vendor, key_client):
    return key_client(vendor, Role.INTEGRATOR)


def count_record(sensor="gate-1", start="2026-01-05T10:00:00Z", end="2026-01-05T10:05:00Z", count_in=10, count_out=5):
    return {"sensor": sensor, "observed_from": start, "observed_to": end, "count_in": count_in, "count_out": count_out}
