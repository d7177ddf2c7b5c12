"""Fixtures for the sensors tests: a city, a vendor, their API clients, an area and a payload."""

import pytest

from accounts.models import OrganisationKind, Role
from tests.factories import OrganisationFactory


@pytest.fixture
def city(db):
    return OrganisationFactory(kind=OrganisationKind.MUNICIPALITY, name="Gemeente Testdorp", slug="testdorp")


@pytest.fixture
def vendor(db):
    return OrganisationFactory(kind=OrganisationKind.VENDOR, name="Counting BV", slug="counting-bv")


@pytest.fixture
def vendor_client(vendor, key_client):
    return key_client(vendor, Role.INTEGRATOR)


@pytest.fixture
def steward_client(city, key_client):
    return key_client(city, Role.DATA_STEWARD)


SQUARE = {
    "type": "Polygon",
    "coordinates": [[[5.0, 52.0], [5.001, 52.0], [5.001, 52.001], [5.0, 52.001], [5.0, 52.0]]],
}


@pytest.fixture
def area_payload():
    return {"name": "Plein", "area_type": "square", "geometry": SQUARE, "capacity": 500}


@pytest.fixture
def area(city, steward_client, area_payload):
    response = steward_client.post("/api/v1/areas/", area_payload)
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def sensor_payload(city):
    return {
        "reference": "cam-001",
        "name": "Plein, north side",
        "sensor_type": "thermal-counter",
        "controller": city.slug,
        "location": {"type": "Point", "coordinates": [5.0005, 52.0005]},
        "measures": ["count_at_line"],
        "personal_data_at_edge": False,
        "legal_basis": "GDPR Art. 6(1)(e)",
        "installed_at": "2025-01-01",
    }


@pytest.fixture
def register(vendor_client, sensor_payload):
    """register(**changes) -> the created sensor (JSON), registered by the vendor."""

    def make(**changes):
        response = vendor_client.post("/api/v1/sensors/", {**sensor_payload, **changes})
        assert response.status_code == 201, response.content
        return response.json()

    return make
