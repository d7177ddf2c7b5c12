"""Bulk ingest: three formats, strict checks that store nothing on error, idempotency and corrections
that keep the rollup exact, partial mode, batches, limits."""

from datetime import UTC, datetime

import orjson
import pytest
from django.db.models import Sum

from accounts.models import Role
from datasets.models import IdempotencyKey, IngestBatch, Record, RecordRollup
from sensors.models import SensorStatus, Suspension
from tests.datasets.conftest import RECORDS, count_record, make_dataset, make_sensor

pytestmark = pytest.mark.django_db


def post_json(client, dataset, records, **extra):
    return client.post(
        RECORDS.format(dataset.pk), orjson.dumps({"records": records}), content_type="application/json", **extra
    )


def nothing_stored():
    return (
        not Record.objects.unguarded("integrity").exists() and not RecordRollup.objects.unguarded("integrity").exists()
    )


def rollup_totals(dataset):
    return (
        RecordRollup.objects.unguarded("integrity")
        .filter(dataset=dataset)
        .aggregate(i=Sum("count_in"), o=Sum("count_out"), c=Sum("count"))
    )


@pytest.mark.smoke
def test_json_records_are_stored_with_typed_columns_and_a_rollup(owner_client, dataset, gates):
    records = [
        count_record("gate-1", "2026-01-05T10:00:00Z", "2026-01-05T10:05:00Z", 10, 5),
        count_record("gate-1", "2026-01-05T10:05:00Z", "2026-01-05T10:10:00Z", 7, 3),
        count_record("gate-2", "2026-01-05T11:00:00+01:00", "2026-01-05T11:05:00+01:00", 4, 4),
    ]
    response = post_json(owner_client, dataset, records)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {**body, "received": 3, "created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    record = Record.objects.unguarded("integrity").get(sensor=gates[0], observed_from="2026-01-05T10:00:00Z")
    assert (record.count_in, record.count_out, record.count) == (10, 5, 15)  # count = in + out (derived)
    rollups = {
        (r.sensor_id, r.bucket.isoformat()): r
        for r in RecordRollup.objects.unguarded("integrity").filter(dataset=dataset)
    }
    # gate-2's 11:00+01:00 is 10:00 UTC: one hourly bucket per sensor.
    assert set(rollups) == {(gates[0].pk, "2026-01-05T10:00:00+00:00"), (gates[1].pk, "2026-01-05T10:00:00+00:00")}
    assert rollups[(gates[1].pk, "2026-01-05T10:00:00+00:00")].count_in == 4
    assert rollups[(gates[0].pk, "2026-01-05T10:00:00+00:00")].count_in == 17
    assert rollups[(gates[0].pk, "2026-01-05T10:00:00+00:00")].records == 2
    batch = IngestBatch.objects.get(pk=body["batch"])
    assert (batch.status, batch.created, batch.source_format) == ("stored", 3, "json")
    assert batch.api_key_prefix == owner_client.secret.split(".")[0]


def test_ndjson_and_csv(owner_client, dataset):
    ndjson = b"\n".join(
        orjson.dumps(count_record(start=f"2026-01-05T1{h}:00:00Z", end=f"2026-01-05T1{h}:05:00Z")) for h in range(3)
    )
    response = owner_client.post(RECORDS.format(dataset.pk), ndjson + b"\n", content_type="application/x-ndjson")
    assert response.status_code == 201 and response.json()["created"] == 3
    csv_body = (
        "sensor,observed_from,observed_to,count_in,count_out\n"
        "gate-2,2026-01-06T10:00:00Z,2026-01-06T10:05:00Z,3,4\n"
        "gate-2,2026-01-06T10:05:00Z,2026-01-06T10:10:00Z,5,6\n"
    )
    response = owner_client.post(RECORDS.format(dataset.pk), csv_body, content_type="text/csv")
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 2
    assert IngestBatch.objects.filter(source_format="csv").get().created == 2
    assert Record.objects.unguarded("integrity").filter(sensor__reference="gate-2").aggregate(s=Sum("count"))["s"] == 18


def test_resending_changes_nothing_and_a_correction_replaces_exactly(owner_client, dataset):
    records = [
        count_record(start=f"2026-01-05T10:{m:02d}:00Z", end=f"2026-01-05T10:{m + 5:02d}:00Z") for m in (0, 5, 10)
    ]
    assert post_json(owner_client, dataset, records).json()["created"] == 3
    again = post_json(owner_client, dataset, records)
    assert again.status_code == 200
    assert again.json() == {**again.json(), "created": 0, "updated": 0, "unchanged": 3}
    corrected = [dict(records[1], count_in=100)]
    answer = post_json(owner_client, dataset, corrected).json()
    assert (answer["created"], answer["updated"], answer["unchanged"]) == (0, 1, 0)
    assert Record.objects.unguarded("integrity").count() == 3
    assert rollup_totals(dataset) == {"i": 10 + 100 + 10, "o": 15, "c": 15 + 105 + 15}


@pytest.mark.parametrize(
    ("bad", "pointer", "code"),
    [
        ({"count_in": -1}, "/records/1/count_in", "out_of_range"),
        ({"count_in": "many"}, "/records/1/count_in", "schema"),
        ({"mood": "happy"}, "/records/1", "schema"),
        ({"sensor": "nowhere"}, "/records/1/sensor", "unknown_sensor"),
        ({"observed_to": "2026-01-05T09:00:00Z"}, "/records/1/observed_to", "invalid"),
        (
            {"observed_from": "2030-01-01T00:00:00Z", "observed_to": "2030-01-01T00:05:00Z"},
            "/records/1/observed_from",
            "out_of_range",
        ),
        (
            {"observed_from": "2019-01-01T00:00:00Z", "observed_to": "2019-01-01T00:05:00Z"},
            "/records/1/sensor",
            "sensor_not_installed",
        ),
        ({"observed_from": "not a time"}, "/records/1/observed_from", "schema"),
        (
            {"observed_from": "2026-01-05T10:00:00Z", "observed_to": "2026-01-05T10:05:00Z"},
            "/records/1",
            "duplicate",
        ),
    ],
)
def test_a_bad_record_stores_nothing_and_is_named(owner_client, dataset, bad, pointer, code):
    good = count_record(start="2026-01-05T10:00:00Z", end="2026-01-05T10:05:00Z")
    other = count_record(start="2026-01-05T10:05:00Z", end="2026-01-05T10:10:00Z")
    response = post_json(owner_client, dataset, [good, {**other, **bad}])
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert "nothing was stored" in problem["detail"]
    assert [(e["pointer"], e["code"]) for e in problem["errors"]] == [(pointer, code)]
    assert nothing_stored()
    batch = IngestBatch.objects.get(pk=problem["batch"])
    assert (batch.status, batch.received, batch.rejected, batch.created) == ("rejected", 2, 1, 0)


def test_a_sensor_that_does_not_feed_the_dataset_is_refused(owner_client, dataset, city):
    make_sensor(city, city, "elsewhere")
    response = post_json(owner_client, dataset, [count_record("elsewhere")])
    assert response.status_code == 422
    assert response.json()["errors"][0]["detail"] == "No sensor with reference 'elsewhere' feeds this dataset."
    assert nothing_stored()


def test_a_suspended_sensor_is_refused(owner_client, dataset, gates):
    Suspension.objects.create(sensor=gates[0], starts_at=datetime(2026, 1, 1, tzinfo=UTC))
    gates[0].status = SensorStatus.SUSPENDED
    gates[0].save()
    response = post_json(owner_client, dataset, [count_record("gate-1")])
    error = response.json()["errors"][0]
    assert error["code"] == "sensor_suspended"
    assert error["detail"] == "Sensor gate-1 was suspended from 2026-01-01 and is still suspended."
    assert nothing_stored()


def test_csv_and_ndjson_errors_name_the_line(owner_client, dataset):
    csv_body = (
        "sensor,observed_from,observed_to,count_in,count_out\n"
        "gate-1,2026-01-05T10:00:00Z,2026-01-05T10:05:00Z,3,4\n"
        "gate-1,2026-01-05T10:05:00Z,2026-01-05T10:10:00Z,three,4\n"
    )
    response = owner_client.post(RECORDS.format(dataset.pk), csv_body, content_type="text/csv")
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["line"], error["pointer"]) == (3, "/records/1/count_in")
    ndjson = (
        orjson.dumps(count_record())
        + b"\n"
        + orjson.dumps(count_record(count_in=-5, start="2026-01-05T10:05:00Z", end="2026-01-05T10:10:00Z"))
    )
    response = owner_client.post(RECORDS.format(dataset.pk), ndjson, content_type="application/x-ndjson")
    error = response.json()["errors"][0]
    assert (error["line"], error["pointer"]) == (2, "/records/1/count_in")
    response = owner_client.post(
        RECORDS.format(dataset.pk), b'{"sensor": "gate-1"}\n{oops', content_type="application/x-ndjson"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["line"] == 2
    assert nothing_stored()


def test_partial_stores_the_good_and_reports_the_bad(owner_client, dataset):
    records = [count_record(), count_record(count_in=-1, start="2026-01-05T10:05:00Z", end="2026-01-05T10:10:00Z")]
    response = owner_client.post(
        RECORDS.format(dataset.pk) + "?partial=true",
        orjson.dumps({"records": records}),
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["rejected"]) == (1, 1)
    assert body["errors"][0]["pointer"] == "/records/1/count_in"
    assert Record.objects.unguarded("integrity").count() == 1
    assert IngestBatch.objects.get(pk=body["batch"]).status == "partial"


def test_an_idempotency_key_replays_the_first_answer(owner_client, dataset):
    records = [count_record()]
    first = post_json(owner_client, dataset, records, HTTP_IDEMPOTENCY_KEY="batch-0001")
    assert first.status_code == 201
    retry = post_json(owner_client, dataset, records, HTTP_IDEMPOTENCY_KEY="batch-0001")
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert IngestBatch.objects.count() == 1 and Record.objects.unguarded("integrity").count() == 1
    other = post_json(owner_client, dataset, [count_record(count_in=99)], HTTP_IDEMPOTENCY_KEY="batch-0001")
    assert other.status_code == 422
    assert other.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert Record.objects.unguarded("integrity").get().count_in == 10
    assert IdempotencyKey.objects.count() == 1


def test_limits_answer_413(owner_client, dataset, settings):
    too_many = [count_record()] * 10_001
    response = post_json(owner_client, dataset, too_many)
    assert response.status_code == 413
    assert response.json()["code"] == "too_many_records"
    settings.REQUEST_BODY_MAX_BYTES = 1024
    response = post_json(owner_client, dataset, [count_record()] * 20)
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert nothing_stored()


def test_unsupported_and_unreadable_bodies(owner_client, dataset):
    response = owner_client.post(RECORDS.format(dataset.pk), "a=b", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    response = owner_client.post(RECORDS.format(dataset.pk), "{not json", content_type="application/json")
    assert response.status_code == 400
    response = owner_client.post(RECORDS.format(dataset.pk), '{"rows": []}', content_type="application/json")
    assert response.status_code == 422
    assert nothing_stored()


def test_an_operator_pushes_for_its_own_sensors_only(vendor_client, dataset):
    assert post_json(vendor_client, dataset, [count_record("gate-2")]).status_code == 201
    response = post_json(
        vendor_client, dataset, [count_record("gate-1", start="2026-01-05T11:00:00Z", end="2026-01-05T11:05:00Z")]
    )
    assert response.status_code == 422
    # Another operator's sensor is unknown to it, like one that does not exist (tests/security/test_messages.py).
    assert response.json()["errors"][0]["code"] == "unknown_sensor"
    assert response.json()["errors"][0]["detail"] == "No sensor you operate with reference 'gate-1' feeds this dataset."
    assert Record.objects.unguarded("integrity").count() == 1


def test_an_analyst_and_strangers_cannot_push(dataset, city, key_client):
    from tests.factories import OrganisationFactory

    assert post_json(key_client(city, Role.ANALYST), dataset, [count_record()]).status_code == 403
    stranger = key_client(OrganisationFactory(), Role.INTEGRATOR)
    assert post_json(stranger, dataset, [count_record()]).status_code == 404  # another organisation's dataset
    assert nothing_stored()


def test_batches_are_visible_to_the_owner_and_to_the_operator_for_its_own(owner_client, vendor_client, dataset, city):
    post_json(owner_client, dataset, [count_record("gate-1")])
    post_json(vendor_client, dataset, [count_record("gate-2")])
    url = f"/api/v1/datasets/{dataset.pk}/batches/"
    owner_view = owner_client.get(url).json()["results"]
    assert len(owner_view) == 2
    vendor_view = vendor_client.get(url).json()["results"]
    assert [b["organisation"] for b in vendor_view] == ["leverancier"]
    assert owner_client.get(url, {"status": "rejected"}).json()["results"] == []


def test_a_retired_dataset_takes_no_records(owner_client, dataset):
    dataset.status = "retired"
    dataset.save()
    response = post_json(owner_client, dataset, [count_record()])
    assert response.status_code == 409
    assert nothing_stored()


def test_events_are_keyed_by_their_id(owner_client, city):
    events = make_dataset(city, code="event-calendar")
    event = {"event_id": "fest", "event_name": "Fest", "observed_from": "2026-06-01T12:00:00Z",
             "observed_to": "2026-06-01T23:00:00Z", "expected_visitors": 5000}  # fmt: skip
    assert post_json(owner_client, events, [event]).json()["created"] == 1
    answer = post_json(owner_client, events, [dict(event, expected_visitors=8000)]).json()
    assert answer["updated"] == 1
    stored = Record.objects.unguarded("integrity").get(dataset=events)
    assert (stored.series, stored.gauge, stored.data) == ("fest", 8000.0, {"event_name": "Fest"})


def test_idempotency_keys_belong_to_the_sender(owner_client, vendor_client, dataset, key_client, city):
    """Another organisation feeding the same dataset neither gets our answer replayed nor is blocked by our key."""
    gate_2 = [count_record(sensor="gate-2", count_in=7)]
    first = post_json(vendor_client, dataset, gate_2, HTTP_IDEMPOTENCY_KEY="batch-0001")
    assert first.status_code == 201
    # The owner sends a different body under the vendor's (predictable) key: stored, not refused as a reuse.
    other = post_json(owner_client, dataset, [count_record(count_in=3)], HTTP_IDEMPOTENCY_KEY="batch-0001")
    assert other.status_code == 201, other.content
    assert Record.objects.unguarded("integrity").count() == 2
    # The owner sends the vendor's body under another key the vendor used: a request of its own, not a replay.
    assert post_json(vendor_client, dataset, gate_2, HTTP_IDEMPOTENCY_KEY="batch-0002").status_code == 200
    same = post_json(owner_client, dataset, gate_2, HTTP_IDEMPOTENCY_KEY="batch-0002")
    assert same.status_code == 200 and "Idempotent-Replayed" not in same
    assert same.json()["batch"] not in {first.json()["batch"], other.json()["batch"]}
    # Within one organisation a key is shared by all its keys and people: a retry by another key replays.
    city_key = key_client(city, Role.INTEGRATOR)
    retry = post_json(city_key, dataset, [count_record(count_in=3)], HTTP_IDEMPOTENCY_KEY="batch-0001")
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == other.json()
    assert IdempotencyKey.objects.count() == 4


def test_whole_number_floats_are_counts_and_counts_stay_in_range(owner_client, dataset):
    """Review finding: 3.0 passes JSON Schema as an integer and 2**63 overflows bigint: both answered 500."""
    stored = post_json(owner_client, dataset, [count_record(count_in=3.0, count_out=2.0e0)])
    assert stored.status_code == 201, stored.content
    assert Record.objects.unguarded("integrity").get().count == 5
    for count_in in [2**63, 10**12 + 1, 2.5]:
        response = post_json(
            owner_client,
            dataset,
            [count_record(start="2026-01-05T11:00:00Z", end="2026-01-05T11:05:00Z", count_in=count_in)],
        )
        assert response.status_code == 422, response.content
        assert response.json()["errors"][0]["pointer"] == "/records/0/count_in"
    derived = post_json(owner_client, dataset, [count_record(count_in=10**12, count_out=10**12)])
    assert derived.status_code == 422 and derived.json()["errors"][0]["code"] == "out_of_range"
    csv = (
        "sensor,observed_from,observed_to,count_in,count_out\n"
        "gate-1,2026-01-05T12:00:00Z,2026-01-05T12:05:00Z,99999999999999999999999,1\n"
    )
    response = owner_client.post(RECORDS.format(dataset.pk), csv, content_type="text/csv")
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/records/0/count_in"
    assert Record.objects.unguarded("integrity").count() == 1
