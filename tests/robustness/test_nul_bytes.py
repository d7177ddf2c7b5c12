"""NUL bytes (which PostgreSQL text and jsonb cannot hold) are refused wherever they come in: the path
(404), the query (400 naming the parameter), JSON and CSV bodies (400 with a pointer to the string)."""

import orjson
import pytest

from datasets.models import Record
from tests.robustness.conftest import SQUARE, assert_problem, pointers

pytestmark = pytest.mark.django_db

NUL = "\x00"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sensor-types/a%00b/",
        "/api/v1/schemas/crowd-count-line/versions/1%000/",
        "/api/v1/schemas/crowd-count-line/versions/1%000/json-schema",
        "/api/v1/organisations/a%00b/",
        "/api/v1/api-keys/a%00b/",
        "/api/v1/purposes/a%00b/",
        "/api/v1/public/purposes/a%00b/",
        "/register/a%00b/",
    ],
)
def test_a_nul_in_the_path_is_not_found(steward, path):
    response = steward.get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert_problem(response, 404)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/public/sensors/?name=a%00b",
        "/api/v1/public/sensors/?controller=a%00b",
        "/api/v1/sensors/?organisation=a%00b",
        "/api/v1/public/datasets/?owner=a%00b",
        "/api/v1/public/purposes/?holder=a%00b",
        "/api/v1/areas/?owner=a%00b",
    ],
)
def test_a_nul_in_the_query_is_a_bad_request_naming_the_parameter(steward, path):
    body = assert_problem(steward.get(path), 400)
    name = path.split("?")[1].split("=")[0]
    assert body["code"] == "null_character"
    assert pointers(body) == {f"/{name}"}
    assert body["errors"][0]["parameter"] == name


def test_a_nul_in_a_query_name_is_a_bad_request(anonymous):
    assert_problem(anonymous.get("/api/v1/public/sensors/?a%00b=1"), 400)


def test_a_nul_in_a_header_is_a_bad_request(integrator, dataset):
    response = integrator.post(
        f"/api/v1/datasets/{dataset.pk}/records/",
        orjson.dumps({"records": []}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="a\x00b",
    )
    body = assert_problem(response, 400)
    assert body["errors"][0]["header"] == "Idempotency-Key"


@pytest.mark.parametrize("field", ["controller", "operator", "sensor_type"])
def test_a_nul_in_a_sensor_slug_field_points_at_it(steward, city, field):
    payload = {
        "reference": "cam-001",
        "name": "Plein",
        "sensor_type": "thermal-counter",
        "controller": city.slug,
        "operator": city.slug,
        "location": {"type": "Point", "coordinates": [5.0, 52.0]},
        "personal_data_at_edge": False,
        field: f"a{NUL}b",
    }
    body = assert_problem(steward.post("/api/v1/sensors/", payload, format="json"), 400)
    assert body["code"] == "null_character"
    assert pointers(body) == {f"/{field}"}


@pytest.mark.parametrize("field", ["schema", "owner"])
def test_a_nul_in_a_dataset_slug_field_points_at_it(steward, city, field):
    payload = {
        "title": "Counts",
        "description": "d",
        "schema": "crowd-count-line",
        "owner": city.slug,
        "contact_point": "data@stad.example",
        "access": "open_aggregate",
        field: f"a{NUL}b",
    }
    body = assert_problem(steward.post("/api/v1/datasets/", payload, format="json"), 400)
    assert pointers(body) == {f"/{field}"}


def test_a_nul_in_a_key_of_a_nested_object_points_at_it(steward):
    geometry = {"type": "Polygon", "coordinates": SQUARE["coordinates"], f"x{NUL}": 1}
    payload = {"name": "Plein", "area_type": "square", "geometry": geometry}
    body = assert_problem(steward.post("/api/v1/areas/", payload, format="json"), 400)
    assert pointers(body) == {"/geometry/x\x00"} or pointers(body) == {"/geometry"}


def test_a_nul_in_area_geometry_points_at_it(steward):
    geometry = {"type": f"Poly{NUL}gon", "coordinates": SQUARE["coordinates"]}
    payload = {"name": "Plein", "area_type": "square", "geometry": geometry}
    body = assert_problem(steward.post("/api/v1/areas/", payload, format="json"), 400)
    assert pointers(body) == {"/geometry/type"}


def test_a_nul_in_an_organisation_update(steward, city):
    body = assert_problem(steward.patch(f"/api/v1/organisations/{city.slug}/", {"name": f"a{NUL}"}, format="json"))
    assert pointers(body) == {"/name"}


def test_a_nul_in_a_record_series_is_refused_and_nothing_is_stored(integrator, event_dataset):
    record = {
        "event_id": f"kermis{NUL}",
        "event_name": "Kermis",
        "observed_from": "2026-01-05T10:00:00Z",
        "observed_to": "2026-01-05T12:00:00Z",
        "expected_visitors": 100,
    }
    for body, content_type in [
        (orjson.dumps({"records": [record]}), "application/json"),
        (orjson.dumps(record) + b"\n", "application/x-ndjson"),
    ]:
        problem = assert_problem(
            integrator.post(f"/api/v1/datasets/{event_dataset.pk}/records/", body, content_type=content_type), 400
        )
        assert problem["code"] == "null_character"
        assert pointers(problem) == {"/records/0/event_id"}
    assert not Record.objects.unguarded("integrity").exists()


def test_a_nul_in_record_data_is_refused(integrator, event_dataset):
    record = {
        "event_id": "kermis",
        "event_name": f"Ker{NUL}mis",
        "observed_from": "2026-01-05T10:00:00Z",
        "observed_to": "2026-01-05T12:00:00Z",
        "expected_visitors": 100,
    }
    problem = assert_problem(
        integrator.post(
            f"/api/v1/datasets/{event_dataset.pk}/records/",
            orjson.dumps({"records": [record]}),
            content_type="application/json",
        ),
        400,
    )
    assert pointers(problem) == {"/records/0/event_name"}


def test_a_nul_in_a_csv_record_names_its_line(integrator, event_dataset):
    body = (
        "event_id,event_name,observed_from,observed_to,expected_visitors\n"
        "a,Kermis,2026-01-05T10:00:00Z,2026-01-05T12:00:00Z,100\n"
        f"b,Ker{NUL}mis,2026-01-05T10:00:00Z,2026-01-05T12:00:00Z,100\n"
    )
    problem = assert_problem(
        integrator.post(f"/api/v1/datasets/{event_dataset.pk}/records/", body, content_type="text/csv"), 400
    )
    assert problem["code"] == "null_character"
    assert problem["errors"][0]["line"] == 3


def test_a_nul_in_a_sensor_import_names_its_line(steward, city):
    body = f"reference,name\ncam-1,Plein\ncam-2,Ple{NUL}in\n"
    response = steward.post(
        f"/api/v1/sensors/import/?controller={city.slug}&sensor_type=thermal-counter", body, content_type="text/csv"
    )
    problem = assert_problem(response, 400)
    assert problem["errors"][0]["line"] == 3


def test_a_nul_in_a_fiware_entity_is_refused(integrator, dataset):
    entity = {
        "id": f"gate{NUL}1",
        "type": "CrowdFlowObserved",
        "dateObserved": "2026-01-05T10:00:00Z/2026-01-05T10:05:00Z",
    }
    problem = assert_problem(
        integrator.post(
            f"/api/v1/datasets/{dataset.pk}/records/fiware/", orjson.dumps(entity), content_type="application/json"
        ),
        400,
    )
    assert pointers(problem) == {"/id"}


def test_a_nul_in_a_form_body_is_refused(steward, city):
    response = steward.patch(
        f"/api/v1/organisations/{city.slug}/", f"name=a{NUL}b", content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response)


def test_a_nul_in_an_api_key_organisation_points_at_it(steward):
    body = {"name": "key", "role": "analyst", "organisation": f"stad{NUL}"}
    problem = assert_problem(steward.post("/api/v1/api-keys/", body, format="json"), 400)
    assert pointers(problem) == {"/organisation"}
