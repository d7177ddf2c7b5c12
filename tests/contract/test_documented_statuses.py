"""Statuses the API answers are documented for the operation that answers them (409, and 404/422 on lists)."""

import pytest
from django.utils import timezone
from schemathesis.core.failures import FailureGroup

from accounts.models import OrganisationKind, Role
from sensors.models import SensorStatus
from tests.datasets.conftest import make_dataset, make_sensor
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


SQUARE = {
    "type": "Polygon",
    "coordinates": [[[5.0, 52.0], [5.001, 52.0], [5.001, 52.001], [5.0, 52.001], [5.0, 52.0]]],
}


@pytest.fixture
def city(db):
    return OrganisationFactory(kind=OrganisationKind.MUNICIPALITY)


def test_the_helper_fails_on_an_undocumented_status(assert_conforms, city, key_client):
    response = key_client(city).get(f"{V1}/me/")
    response.status_code = 418
    with pytest.raises(FailureGroup, match="418"):
        assert_conforms("get", f"{V1}/me/", response)


@pytest.mark.parametrize(
    "path", ["/areas/", "/sensors/", "/datasets/", "/grants/", "/purposes/", "/api-keys/", "/organisations/"]
)
def test_a_page_past_the_end_is_a_documented_404(assert_conforms, city, key_client, path):
    response = key_client(city).get(f"{V1}{path}", {"page": 999} if path != "/sensors/" else {"cursor": "junk"})
    assert response.status_code == 404
    assert_conforms("get", f"{V1}{path}", response)


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/areas/", {"area_type": "moat"}),
        ("/datasets/", {"status": "lost"}),
        ("/grants/", {"level": "everything"}),
        ("/public/sensors/", {"bbox": "north"}),
        ("/access-events/", {"after": "yesterday"}),
    ],
)
def test_a_bad_filter_is_a_documented_422(assert_conforms, city, key_client, path, query):
    response = key_client(city).get(f"{V1}{path}", query)
    assert response.status_code == 422, response.content
    assert_conforms("get", f"{V1}{path}", response)


@pytest.mark.parametrize("transition", ["confirm", "resume"])
def test_a_transition_from_the_wrong_status_is_a_documented_409(assert_conforms, city, key_client, transition):
    sensor = make_sensor(city, city, "gate-1", status=SensorStatus.ACTIVE)
    path = f"{V1}/sensors/{{id}}/{transition}/"
    response = key_client(city).post(path.format(id=sensor.pk), {"note": ""}, format="json")
    assert response.status_code == 409, response.content
    assert_conforms("post", path, response)


@pytest.mark.parametrize("method", ["put", "patch"])
def test_changing_a_removed_sensor_is_documented(assert_conforms, city, key_client, method):
    # A removed sensor stays in the register and stays editable (its service life is history, not a lock).
    sensor = make_sensor(city, city, "gate-1", status=SensorStatus.REMOVED, removed_at=timezone.now())
    client = key_client(city)
    body = client.get(f"{V1}/sensors/{sensor.pk}/").json()
    body = {
        key: body[key]
        for key in ("reference", "name", "sensor_type", "controller", "operator", "location", "personal_data_at_edge")
    }
    response = getattr(client, method)(f"{V1}/sensors/{sensor.pk}/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "removed" and response.json()["removed_at"]
    assert_conforms(method, f"{V1}/sensors/{{id}}/", response)


def test_deleting_an_area_in_use_is_a_documented_409(assert_conforms, city, key_client):
    client = key_client(city)
    area = client.post(f"{V1}/areas/", {"name": "Plein", "area_type": "square", "geometry": SQUARE}, format="json")
    assert area.status_code == 201, area.content
    make_sensor(city, city, "gate-1", area_id=area.json()["id"])
    response = client.delete(f"{V1}/areas/{area.json()['id']}/")
    assert response.status_code == 409, response.content
    assert_conforms("delete", f"{V1}/areas/{{id}}/", response)


def test_deleting_a_dataset_with_records_is_a_documented_409(assert_conforms, city, key_client):
    gate = make_sensor(city, city, "gate-1")
    dataset = make_dataset(city, sensors=[gate])
    records = (
        "sensor,observed_from,observed_to,count_in,count_out\ngate-1,2026-01-05T10:00:00Z,2026-01-05T10:05:00Z,1,2\n"
    )
    sent = key_client(city, Role.INTEGRATOR).post(
        f"{V1}/datasets/{dataset.pk}/records/", records, content_type="text/csv"
    )
    assert sent.status_code == 201, sent.content
    response = key_client(city).delete(f"{V1}/datasets/{dataset.pk}/")
    assert response.status_code == 409, response.content
    assert_conforms("delete", f"{V1}/datasets/{{id}}/", response)


def test_a_nul_in_a_query_parameter_is_a_documented_400(assert_conforms, city, key_client):
    response = key_client(city).get(f"{V1}/areas/", {"name": "a\x00b"})
    assert response.status_code == 400, response.content
    assert_conforms("get", f"{V1}/areas/", response)
