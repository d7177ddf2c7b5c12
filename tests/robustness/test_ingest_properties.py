"""Property-based (issue 9): generated records and bodies posted to every ingest endpoint (JSON, NDJSON,
CSV, FIWARE) and to the sensor endpoints (create, PATCH, CSV import) never get a 5xx, and every 4xx is
problem+json. Records are drawn near the bounds (the platform window, the schema's period, the count
maximum) as well as anywhere. Derandomized and bounded like tests/robustness/test_properties.py."""

from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from hypothesis import given
from hypothesis import strategies as st

from datasets.models import MAX_COUNT
from tests.robustness.test_properties import EXAMPLES, answered, encoded, fuzz, json_values, moment_text, text

near_bounds = st.sampled_from(
    ["1989-12-31T23:59:59Z", "1990-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "2026-01-05T10:00:00Z",
     "2026-01-05T10:05:00Z", "2026-01-05T10:05:01Z", "9999-12-31T23:59:59-05:00"]
) | st.datetimes(min_value=datetime(1985, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)).map(
    datetime.isoformat
)  # fmt: skip
counts = st.sampled_from([-1, 0, MAX_COUNT, MAX_COUNT + 1, 2**63, 2**64, 3.0, 2.5]) | st.integers(-(2**70), 2**70)
records = st.fixed_dictionaries(
    {"sensor": st.sampled_from(["gate-1", "nowhere", ""]) | text, "observed_from": near_bounds | moment_text,
     "observed_to": near_bounds | moment_text},
    optional={"count_in": counts | json_values, "count_out": counts | json_values, "sensor_id": counts | text},
)  # fmt: skip
csv_cell = st.one_of(text, counts.map(str), near_bounds, st.sampled_from(["", "-1", "undefined", "gate-1"]))


def csv_body(rows) -> bytes:
    header = "sensor,observed_from,observed_to,count_in,count_out"
    return "\n".join([header, *(",".join(row) for row in rows)]).encode("utf-8", "surrogatepass")


def fiware(record: dict) -> dict:
    return {"id": record["sensor"], "type": "CrowdFlowObserved", "dateObservedFrom": record["observed_from"],
            "dateObservedTo": record["observed_to"], "peopleCount": record.get("count_in")}  # fmt: skip


@pytest.mark.django_db
@fuzz()
@given(
    batch=st.lists(records, max_size=4),
    rows=st.lists(st.lists(csv_cell, min_size=4, max_size=6), max_size=3),
    raw=st.binary(max_size=100),
    content_type=st.sampled_from(["application/json", "application/x-ndjson", "text/csv", "", "text/plain"]),
    partial=st.booleans(),
)
def test_ingest_never_fails(integrator, dataset, batch, rows, raw, content_type, partial):
    path = f"/api/v1/datasets/{dataset.pk}/records/{'?partial=true' if partial else ''}"
    answered(integrator.post(path, encoded({"records": batch}), content_type="application/json"))
    answered(integrator.post(path, b"\n".join(map(encoded, batch)), content_type="application/x-ndjson"))
    answered(integrator.post(path, csv_body(rows), content_type="text/csv"))
    answered(integrator.generic("POST", path, raw, content_type=content_type))
    fiware_path = f"/api/v1/datasets/{dataset.pk}/records/fiware/{'?partial=true' if partial else ''}"
    answered(
        integrator.post(fiware_path, encoded([fiware(record) for record in batch]), content_type="application/json")
    )


sensor_fields = st.sampled_from(
    ["reference", "name", "sensor_type", "latitude", "longitude", "installed_at", "active_until", "status",
     "visibility", "personal_data_at_edge", "raw_data_retention_hours", "active_periods", "measures"]
)  # fmt: skip
sensor_values = json_values | moment_text | counts | st.dates(min_value=datetime(1, 1, 1).date()).map(str)


@pytest.mark.django_db
@fuzz(EXAMPLES)
@given(
    body=st.dictionaries(sensor_fields, sensor_values, max_size=6),
    rows=st.lists(st.lists(csv_cell | sensor_values.map(str), min_size=2, max_size=5), max_size=3),
    query=st.dictionaries(st.sampled_from(["controller", "operator", "sensor_type", "status"]), text, max_size=2),
)
def test_sensor_endpoints_never_fail(steward, sensor, body, rows, query):
    cache.clear()
    answered(steward.post("/api/v1/sensors/", encoded(body), content_type="application/json"))
    answered(steward.patch(f"/api/v1/sensors/{sensor.pk}/", encoded(body), content_type="application/json"))
    header = "reference,name,latitude,longitude,installed_at"
    csv = "\n".join([header, *(",".join(row) for row in rows)]).encode("utf-8", "surrogatepass")
    params = {"controller": "stad", "sensor_type": "thermal-counter", **query}
    url = "/api/v1/sensors/import/?" + "&".join(f"{k}={v}" for k, v in params.items() if "&" not in v and "#" not in v)
    answered(steward.post(url, csv, content_type="text/csv"))
