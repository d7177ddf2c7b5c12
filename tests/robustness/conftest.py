"""Fixtures for the robustness tests: a city with a steward and an integrator, a sensor, an area and a
dataset, and `assert_problem`, which every refusal here must pass."""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from accounts.models import OrganisationKind, Role
from datasets.models import AccessClassification, Dataset, DatasetStatus, SchemaVersion
from sensors.models import Sensor, SensorStatus, SensorType
from tests.factories import OrganisationFactory
from tests.purposes.conftest import make_purpose

PROBLEM = "application/problem+json"
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[5.0, 52.0], [5.001, 52.0], [5.001, 52.001], [5.0, 52.001], [5.0, 52.0]]],
}


def assert_problem(response, status=None):
    """A refusal: a 4xx (or the given status) answered as problem+json, never a 5xx. Returns the body."""
    assert response.status_code < 500, (response.status_code, response.content[:500])
    if status is not None:
        assert response.status_code == status, (response.status_code, response.content[:500])
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    assert response["Content-Type"] == PROBLEM, (response["Content-Type"], response.content[:500])
    body = response.json()
    assert body["status"] == response.status_code
    assert body["type"].endswith(":" + body["code"])
    return body


def pointers(body) -> set[str]:
    return {error["pointer"] for error in body.get("errors", [])}


@pytest.fixture
def city(db):
    return OrganisationFactory(kind=OrganisationKind.MUNICIPALITY, slug="stad", name="Gemeente Stad")


@pytest.fixture
def vendor(db):
    return OrganisationFactory(kind=OrganisationKind.VENDOR, slug="leverancier", name="Leverancier BV")


def _client(key_client, organisation, role):
    client = key_client(organisation, role)
    client.raise_request_exception = False  # a 500 is an answer to assert on, not an exception
    return client


@pytest.fixture
def steward(city, key_client):
    return _client(key_client, city, Role.ADMIN)


@pytest.fixture
def integrator(city, key_client):
    return _client(key_client, city, Role.INTEGRATOR)


@pytest.fixture
def anonymous():
    return APIClient(raise_request_exception=False)


@pytest.fixture
def sensor(city):
    return Sensor.objects.create(
        controller=city,
        operator=city,
        sensor_type=SensorType.objects.get(code="lidar-counter"),
        reference="gate-1",
        name="gate-1",
        latitude=52.0,
        longitude=5.0,
        personal_data_at_edge=False,
        status=SensorStatus.ACTIVE,
        installed_at=datetime(2020, 1, 1, tzinfo=UTC),
    )


@pytest.fixture
def dataset(city, sensor):
    dataset = Dataset.objects.create(
        owner=city,
        schema_version=SchemaVersion.objects.get(schema__code="crowd-count-line", version="1.0.0"),
        title="Counts",
        description="Test data",
        contact_point="data@stad.example",
        access=AccessClassification.OPEN_AGGREGATE,
        status=DatasetStatus.ACTIVE,
    )
    dataset.sensors.set([sensor])
    return dataset


@pytest.fixture
def event_dataset(city):
    return Dataset.objects.create(
        owner=city,
        schema_version=SchemaVersion.objects.get(schema__code="event-calendar", version="1.0.0"),
        title="Events",
        description="Test data",
        contact_point="data@stad.example",
        access=AccessClassification.OPEN_AGGREGATE,
        status=DatasetStatus.ACTIVE,
    )


@pytest.fixture
def area(steward):
    response = steward.post(
        "/api/v1/areas/", {"name": "Plein", "area_type": "square", "geometry": SQUARE, "capacity": 500}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def purpose(city, dataset):
    """The city's own purpose, which its dataset is collected for: the steward reads records under it."""
    safety = make_purpose(city, "stad-crowd-safety")
    dataset.collection_purposes.set([safety])
    return safety
