"""Request bodies: JSON where fields nest, and a CSV of records carries records."""

import json

import pytest

from accounts.models import OrganisationKind, Role
from datasets.models import IngestBatch
from tests.datasets.conftest import make_dataset, make_sensor
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

V1 = "/api/v1"
FORMS = {"multipart/form-data", "application/x-www-form-urlencoded"}


@pytest.fixture
def city(db):
    return OrganisationFactory(kind=OrganisationKind.MUNICIPALITY)


def test_no_operation_advertises_form_bodies(contract):
    advertised = [
        f"{method.upper()} {path}: {media}"
        for path, item in contract.raw_schema["paths"].items()
        for method, operation in item.items()
        for media in operation.get("requestBody", {}).get("content", {})
        if media in FORMS
    ]
    assert advertised == []


def test_a_form_body_is_refused_with_415(city, key_client):
    client = key_client(city, Role.ADMIN)
    response = client.post(f"{V1}/areas/", {"name": "Plein", "area_type": "square"}, format="multipart")
    assert response.status_code == 415, response.content
    assert response["Content-Type"] == "application/problem+json"


def send_csv(city, key_client, body):
    dataset = make_dataset(city, sensors=[make_sensor(city, city, "gate-1")])
    client = key_client(city, Role.INTEGRATOR)
    return dataset, client.post(f"{V1}/datasets/{dataset.pk}/records/", body, content_type="text/csv")


@pytest.mark.parametrize(
    "body",
    [
        "sensor,observed_from,observed_to,count_in,count_out\n",
        "sensor,observed_from,observed_to,count_in,count_out\r\n,,,,\r\n",
    ],
)
def test_a_csv_with_a_header_only_is_refused_with_422(city, key_client, body):
    dataset, response = send_csv(city, key_client, body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "no_records"
    assert not IngestBatch.objects.filter(dataset=dataset).exists()


def test_a_csv_with_a_record_is_taken(city, key_client):
    body = "sensor,observed_from,observed_to,count_in,count_out\ngate-1,2026-01-05T10:00:00Z,2026-01-05T10:05:00Z,1,2\n"
    _, response = send_csv(city, key_client, body)
    assert response.status_code == 201, response.content
    assert json.loads(response.content)["received"] == 1


def test_sensor_import_problems_carry_a_pointer(assert_conforms, city, key_client):
    client = key_client(city, Role.ADMIN)
    path = "/api/v1/sensors/import/"
    response = client.post(
        f"{path}?controller={city.slug}&sensor_type=thermal-counter", "name\nPlein\n", content_type="text/csv"
    )
    assert response.status_code == 422, response.content
    assert_conforms("post", path, response)
    assert response.json()["errors"][0]["pointer"] == "/1"


@pytest.mark.parametrize("partial", ["false", "true"])
def test_a_record_that_is_not_an_object_refuses_the_body(city, key_client, partial):
    dataset = make_dataset(city, sensors=[make_sensor(city, city, "gate-1")])
    client = key_client(city, Role.INTEGRATOR)
    response = client.post(
        f"{V1}/datasets/{dataset.pk}/records/?partial={partial}", {"records": [[None, None]]}, format="json"
    )
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["pointer"] == "/records/0"
    assert not IngestBatch.objects.filter(dataset=dataset).exists()


@pytest.mark.parametrize(
    ("method", "path", "body", "pointer"),
    [
        ("patch", "/organisations/{slug}/", {"description": 0}, "/description"),
        ("put", "/organisations/{slug}/", {"name": "Stad", "description": 1.5}, "/description"),
        ("post", "/areas/", {"name": 7, "area_type": "square"}, "/name"),
    ],
)
def test_a_number_where_the_document_says_text_is_refused(city, key_client, method, path, body, pointer):
    client = key_client(city, Role.ADMIN)
    response = getattr(client, method)(V1 + path.format(slug=city.slug), body, format="json")
    assert response.status_code == 422, response.content
    assert pointer in [error["pointer"] for error in response.json()["errors"]]


def test_a_number_in_a_list_of_text_is_refused(city, key_client):
    from tests.factories import api_key_for

    key, _ = api_key_for(city, role=Role.INTEGRATOR)
    client = key_client(city, Role.ADMIN)
    response = client.put(f"{V1}/api-keys/{key.prefix}/purposes/", {"purposes": [0]}, format="json")
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["pointer"] == "/purposes/0"


@pytest.mark.parametrize("value", [0, 1, "true", "yes", "on"])
def test_a_boolean_is_true_or_false(city, key_client, value):
    client = key_client(city, Role.ADMIN)
    sensor = make_sensor(city, city, "gate-1")
    response = client.patch(f"{V1}/sensors/{sensor.pk}/", {"personal_data_at_edge": value}, format="json")
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["pointer"] == "/personal_data_at_edge"
    assert client.patch(f"{V1}/sensors/{sensor.pk}/", {"personal_data_at_edge": True}, format="json").status_code == 200


@pytest.mark.parametrize("path", ["/datasets/{id}/records/", "/datasets/{id}/records/fiware/", "/sensors/import/"])
def test_raw_bodies_are_documented_as_required(contract, path):
    # Without a body these answer 415 or 422: the document must not offer the request without one.
    assert contract.raw_schema["paths"][V1 + path]["post"]["requestBody"]["required"] is True


@pytest.mark.parametrize(
    ("kpi", "pointer"),
    [
        ({"name": "Accuracy", "kind": "output", "scope": "technology"}, "/kpis/0/unit"),
        (
            {"name": "Accuracy", "kind": "output", "scope": "technology", "unit": "%", "measurements": [{"value": 1}]},
            "/kpis/0/measurements/0/at",
        ),
    ],
)
def test_a_patch_of_kpis_names_what_a_kpi_lacks(city, key_client, kpi, pointer):
    # Found by the contract run: a PATCH relaxed the KPI's required fields, stored it, and answered 500.
    from tests.purposes.conftest import make_purpose

    purpose = make_purpose(city, "stad-safety", approve=False)
    response = key_client(city, Role.ADMIN).patch(f"{V1}/purposes/{purpose.code}/", {"kpis": [kpi]}, format="json")
    assert response.status_code == 422, response.content
    assert pointer in [error["pointer"] for error in response.json()["errors"]]
    purpose.refresh_from_db()
    assert purpose.kpis == []
