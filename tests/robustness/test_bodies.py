"""Bodies no endpoint can use are refused before any view works on them: JSON nested deeper than
MAX_JSON_DEPTH (400 `nesting_too_deep`), CSV cells over the csv module's field limit (400 naming the line)."""

import orjson
import pytest

from api.parsers import MAX_JSON_DEPTH
from sensors.models import Sensor
from tests.robustness.conftest import assert_problem, pointers

pytestmark = pytest.mark.django_db


def nested(depth: int):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 5000])
def test_deep_json_in_a_record_is_refused(integrator, event_dataset, depth):
    record = {
        "event_id": "kermis",
        "event_name": nested(depth),
        "observed_from": "2026-01-05T10:00:00Z",
        "observed_to": "2026-01-05T12:00:00Z",
    }
    for body, content_type in [
        (
            orjson.dumps({"records": [record]}, option=orjson.OPT_PASSTHROUGH_SUBCLASS)
            if depth < 1000
            else b'{"records": [{"event_name": ' + b"[" * depth + b"]" * depth + b"}]}",
            "application/json",
        ),
        (b'{"event_name": ' + b"[" * depth + b"]" * depth + b"}\n", "application/x-ndjson"),
    ]:
        problem = assert_problem(
            integrator.post(f"/api/v1/datasets/{event_dataset.pk}/records/", body, content_type=content_type), 400
        )
        assert problem["code"] in {"nesting_too_deep", "parse_error"}


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 5000])
@pytest.mark.parametrize(
    "method,path", [("post", "/api/v1/areas/"), ("post", "/api/v1/sensors/"), ("post", "/api/v1/datasets/")]
)
def test_deep_json_on_drf_endpoints_is_refused(steward, method, path, depth):
    body = b'{"name": ' + b"[" * depth + b"]" * depth + b"}"
    problem = assert_problem(getattr(steward, method)(path, body, content_type="application/json"), 400)
    assert problem["code"] in {"nesting_too_deep", "parse_error"}


def test_json_at_the_depth_limit_is_read(steward):
    # An area's geometry is 4 deep; the limit leaves room for it and refuses only absurd nesting.
    body = {"name": "Plein", "area_type": "square", "geometry": nested(MAX_JSON_DEPTH - 1)}
    problem = assert_problem(steward.post("/api/v1/areas/", body, format="json"), 422)
    assert pointers(problem) == {"/geometry/type"} or pointers(problem) == {"/geometry"}


def test_deep_fiware_is_refused(integrator, dataset):
    body = b'{"id": ' + b"[" * 1000 + b"]" * 1000 + b', "type": "CrowdFlowObserved"}'
    assert_problem(
        integrator.post(f"/api/v1/datasets/{dataset.pk}/records/fiware/", body, content_type="application/json"), 400
    )


def test_a_huge_csv_cell_in_records_names_its_line(integrator, event_dataset):
    body = (
        "event_id,event_name,observed_from,observed_to\n"
        "a,Kermis,2026-01-05T10:00:00Z,2026-01-05T12:00:00Z\n"
        f"b,{'x' * 200_000},2026-01-05T10:00:00Z,2026-01-05T12:00:00Z\n"
    )
    problem = assert_problem(
        integrator.post(f"/api/v1/datasets/{event_dataset.pk}/records/", body, content_type="text/csv"), 400
    )
    assert problem["errors"][0]["line"] == 3


def test_a_huge_csv_cell_in_a_sensor_import_names_its_line(steward, city):
    body = f"reference,name\ncam-1,Plein\ncam-2,{'x' * 200_000}\n"
    response = steward.post(
        f"/api/v1/sensors/import/?controller={city.slug}&sensor_type=thermal-counter", body, content_type="text/csv"
    )
    problem = assert_problem(response, 400)
    assert problem["errors"][0]["line"] == 3
    assert not Sensor.objects.exists()
