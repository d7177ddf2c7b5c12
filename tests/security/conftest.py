"""Two cities, a vendor and the police, with keys in every role, probing each other.

City A ("stad-a") controls a public counter (`public_sensor`, at 5.1, 52.1) and a police camera that is
restricted (`police_camera`, at 6.7, 53.3: coordinates nothing else uses, so a leak is found by text),
both operated by the vendor and feeding A's open dataset. City B ("stad-b") is the stranger.
"""

import re
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from accounts.models import OrganisationKind, Role
from datasets.models import AccessClassification, Dataset, DatasetStatus, SchemaVersion
from sensors.models import Area, Sensor, SensorStatus, SensorType, Visibility
from sensors.services import area_facts
from tests.factories import OrganisationFactory, api_key_for

SECRET_LON, SECRET_LAT = 6.7123, 53.3456
SECRET_REFERENCE = "secret-police-cam-17"
# Ids no message could hold by chance (a "1 field did not validate" must not pass for an id 1), and one
# of the same length that no row has: a foreign row's answer is compared with a missing one's.
CAMERA_PK, PUBLIC_SENSOR_PK, A_AREA_PK, B_AREA_PK, MISSING_PK = 917_001, 917_002, 917_101, 917_102, 917_999


def square(west, south, size=0.001):
    east, north = west + size, south + size
    return {
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
    }


def make_area(owner, name, west, south, **extra):
    geometry = square(west, south)
    return Area.objects.create(
        owner=owner, name=name, area_type="square", geometry=geometry, **area_facts(geometry), **extra
    )


def make_sensor(controller, operator, reference, lon, lat, **extra):
    return Sensor.objects.create(
        controller=controller,
        operator=operator,
        sensor_type=SensorType.objects.get(code=extra.pop("type_code", "lidar-counter")),
        reference=reference,
        name=extra.pop("name", reference),
        latitude=lat,
        longitude=lon,
        personal_data_at_edge=False,
        status=extra.pop("status", SensorStatus.ACTIVE),
        installed_at=datetime(2020, 1, 1, tzinfo=UTC),
        **extra,
    )


def make_dataset(owner, sensors=(), areas=(), **extra):
    dataset = Dataset.objects.create(
        owner=owner,
        schema_version=SchemaVersion.objects.get(schema__code="crowd-count-line", version="1.0.0"),
        title=extra.pop("title", f"Counts of {owner.name}"),
        description="Test data",
        contact_point="data@example.org",
        access=extra.pop("access", AccessClassification.OPEN_AGGREGATE),
        status=extra.pop("status", DatasetStatus.ACTIVE),
        **extra,
    )
    dataset.sensors.set(sensors)
    dataset.areas.set(areas)
    return dataset


@pytest.fixture
def city_a(db):
    return OrganisationFactory(kind=OrganisationKind.MUNICIPALITY, slug="stad-a", name="Gemeente A")


@pytest.fixture
def city_b(db):
    return OrganisationFactory(kind=OrganisationKind.MUNICIPALITY, slug="stad-b", name="Gemeente B")


@pytest.fixture
def vendor(db):
    return OrganisationFactory(kind=OrganisationKind.VENDOR, slug="telco", name="Telco BV")


@pytest.fixture
def police(db):
    return OrganisationFactory(kind=OrganisationKind.POLICE, slug="politie", name="Politie")


@pytest.fixture
def keys(db):
    """keys(organisation) -> {role: APIClient with a key of that role}, for every role."""

    def make(organisation):
        clients = {}
        for role in Role.values:
            _, secret = api_key_for(organisation, role=role, name=f"{role} key")
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
            client.prefix = secret.split(".")[0]
            clients[role] = client
        return clients

    return make


@pytest.fixture
def a_keys(city_a, keys):
    return keys(city_a)


@pytest.fixture
def b_keys(city_b, keys):
    return keys(city_b)


@pytest.fixture
def vendor_keys(vendor, keys):
    return keys(vendor)


@pytest.fixture
def a_area(city_a):
    return make_area(city_a, "Plein A", 5.0, 52.0, pk=A_AREA_PK)


@pytest.fixture
def b_area(city_b):
    """City B's private area: no sensor, no dataset shows it."""
    return make_area(city_b, "Geheim terrein B", 7.5, 50.5, pk=B_AREA_PK)


@pytest.fixture
def public_sensor(city_a, vendor):
    return make_sensor(city_a, vendor, "a-counter-1", 5.1, 52.1, pk=PUBLIC_SENSOR_PK)


@pytest.fixture
def police_camera(city_a, vendor):
    return make_sensor(
        city_a,
        vendor,
        SECRET_REFERENCE,
        SECRET_LON,
        SECRET_LAT,
        pk=CAMERA_PK,
        type_code="counting-camera",
        name="Camera for the police",
        visibility=Visibility.RESTRICTED,
        restriction_reason="Withheld at the police's request (modus operandi).",
    )


@pytest.fixture
def open_dataset(city_a, public_sensor, police_camera):
    return make_dataset(city_a, sensors=[public_sensor, police_camera], title="Open counts A")


def same_answer(first, second, first_id, second_id):
    """Whether two responses are the same once each one's own id is blotted out (as a whole word only:
    id 22 is not the 22 of 422)."""

    def blot(response, value):
        return re.sub(rf"(?<![\w-]){re.escape(str(value))}(?![\w-])", "«id»", response.content.decode())

    return first.status_code == second.status_code and blot(first, first_id) == blot(second, second_id)
