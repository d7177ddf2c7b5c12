"""Query parameters are read as the OpenAPI document describes them: what it refuses is a 422 (or, for a page
or a format, a 404) naming the parameter, never silently read as "no filter" or "the default"."""

import pytest

from accounts.models import OrganisationKind, Role
from datasets.models import IngestBatch
from tests.datasets.conftest import make_dataset, make_sensor
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


@pytest.fixture
def city(db):
    return OrganisationFactory(kind=OrganisationKind.MUNICIPALITY)


@pytest.fixture
def client(city, key_client):
    return key_client(city, Role.ADMIN)


def assert_refused(response, status, pointer=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    if pointer is not None:
        assert [error["pointer"] for error in response.json()["errors"]] == [pointer]


@pytest.mark.parametrize("path", ["/areas/", "/sensors/", "/grants/", "/public/sensors/"])
@pytest.mark.parametrize("value", ["true", "0", "-1", "", "null", "2.5"])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_refused(client, path, value):
    assert_refused(client.get(f"{V1}{path}", {"page_size": value}), 422, "/page_size")


@pytest.mark.parametrize("path", ["/areas/", "/sensors/", "/public/sensors/"])
def test_a_good_page_size_is_taken(client, path):
    assert client.get(f"{V1}{path}", {"page_size": "3"}).status_code == 200


def test_an_empty_page_number_is_not_page_one(client):
    assert_refused(client.get(f"{V1}/areas/", {"page": ""}), 404)
    assert client.get(f"{V1}/areas/", {"page": "1"}).status_code == 200


@pytest.mark.parametrize("value", ["", "xml", "yaml"])
def test_an_empty_or_unknown_format_is_404(client, value):
    assert_refused(client.get(f"{V1}/public/sensors/", {"format": value}), 404)


@pytest.mark.parametrize(
    ("path", "name", "bad", "good"),
    [
        ("/grants/", "revoked", "null", "true"),
        ("/api-keys/", "revoked", "maybe", "false"),
        ("/public/sensors/", "personal_data", "null", "false"),
        ("/sensors/", "personal_data", "", "true"),
        ("/datasets/", "sensor", "0.5", "7"),
        ("/public/datasets/", "sensor", "", "7"),
        ("/grants/", "level", "", "aggregate"),
        ("/access-events/", "after", "", "2026-01-01T00:00:00Z"),
        ("/sensors/", "installed_after", "", "2026-01-01"),
    ],
)
def test_a_filter_value_outside_the_document_is_refused(client, path, name, bad, good):
    assert_refused(client.get(f"{V1}{path}", {name: bad}), 422, f"/{name}")
    assert client.get(f"{V1}{path}", {name: good}).status_code == 200


def test_empty_text_filters_are_still_text(client):
    assert client.get(f"{V1}/areas/", {"name": ""}).status_code == 200


def test_the_batches_filter_refuses_an_unknown_status(city, client):
    dataset = make_dataset(city)
    assert_refused(client.get(f"{V1}/datasets/{dataset.pk}/batches/", {"status": "AAA"}), 422, "/status")
    assert_refused(client.get(f"{V1}/datasets/{dataset.pk}/batches/", {"source_format": "xml"}), 422, "/source_format")
    assert client.get(f"{V1}/datasets/{dataset.pk}/batches/", {"status": "stored"}).status_code == 200


@pytest.mark.parametrize("value", ["null", "", "maybe"])
def test_ingest_refuses_a_partial_that_is_not_a_boolean(city, key_client, value):
    dataset = make_dataset(city, sensors=[make_sensor(city, city, "gate-1")])
    client = key_client(city, Role.INTEGRATOR)
    response = client.post(f"{V1}/datasets/{dataset.pk}/records/?partial={value}", {"records": []}, format="json")
    assert_refused(response, 422, "/partial")
    assert not IngestBatch.objects.filter(dataset=dataset).exists()


def test_the_sensor_import_refuses_a_flag_that_is_not_a_boolean(city, client):
    response = client.post(
        f"{V1}/sensors/import/?controller={city.slug}&sensor_type=thermal-counter&personal_data_at_edge=maybe",
        "reference,name,latitude,longitude\n",
        content_type="text/csv",
    )
    assert_refused(response, 422, "/personal_data_at_edge")


@pytest.mark.parametrize(("path", "name"), [("/records/", "page_size"), ("/aggregates/counts/", "bucket")])
def test_data_queries_refuse_an_empty_value(city, client, path, name):
    dataset = make_dataset(city)
    response = client.get(f"{V1}{path}", {"dataset": dataset.pk, name: "", "purpose": "x"})
    assert_refused(response, 422, f"/{name}")


def test_the_sensor_import_refuses_an_empty_flag(city, client):
    response = client.post(
        f"{V1}/sensors/import/?controller={city.slug}&sensor_type=thermal-counter&personal_data_at_edge=",
        "reference,name,latitude,longitude\n",
        content_type="text/csv",
    )
    assert_refused(response, 422, "/personal_data_at_edge")


def test_views_read_their_query_through_api_params():
    # A serializer given request.query_params reads them as an HTML form: an empty value is "not given",
    # and a boolean is not the word true or false (api.params explains). One way in: query_parameters().
    from pathlib import Path

    project = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(project))
        for folder in ("platform", "sensors", "datasets", "purposes")
        for path in (project / folder).rglob("*.py")
        if "data=request.query_params" in path.read_text() or "data=self.request.query_params" in path.read_text()
    ]
    assert offenders == []
