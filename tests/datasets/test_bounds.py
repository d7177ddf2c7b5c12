"""Plausible bounds on every record, whatever its format (issue 9): times in the platform window, intervals
no longer than the schema's period, counts within the schema's maximum; 422 with a pointer and a stable code."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.db import IntegrityError, transaction

from accounts.models import Role
from datasets import registry
from datasets.models import MAX_COUNT, IngestBatch, Record, SchemaVersion
from tests.datasets.conftest import RECORDS, count_record, make_dataset, make_sensor

pytestmark = pytest.mark.django_db

CSV_HEADER = "sensor,observed_from,observed_to,count_in,count_out\n"


def post_json(client, dataset, records, partial=False):
    path = RECORDS.format(dataset.pk) + ("?partial=true" if partial else "")
    return client.post(path, orjson.dumps({"records": records}), content_type="application/json")


def refusal(response):
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    return [(error["pointer"], error["code"]) for error in response.json()["errors"]]


def in_the_future(minutes):
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def moment(value):
    """A time as given, or one this far from now (taken when the test runs, not when it was collected: a run
    that reached this test more than a minute after collecting it found 6 minutes ahead within the window)."""
    return in_the_future(value.total_seconds() / 60) if isinstance(value, timedelta) else value


@pytest.mark.parametrize(
    ("start", "end", "pointer"),
    [
        # Stored as a BC timestamp on PostgreSQL, a 500 at ingest on SQLite (the reproduction).
        ("0001-01-01T00:00:00+05:00", "2026-01-05T10:05:00Z", "/records/0/observed_from"),
        ("0001-01-03T00:00:00Z", "0001-01-03T00:05:00Z", "/records/0/observed_from"),
        ("1989-12-31T23:55:00Z", "1990-01-01T00:00:00Z", "/records/0/observed_from"),
        ("2026-01-05T10:00:00Z", "9999-12-31T23:59:59-05:00", "/records/0/observed_to"),
        (timedelta(minutes=1), timedelta(minutes=6), "/records/0/observed_to"),
        (timedelta(minutes=60), timedelta(minutes=65), "/records/0/observed_from"),
    ],
)
def test_times_outside_the_platform_window_are_refused(owner_client, dataset, start, end, pointer):
    start, end = moment(start), moment(end)
    assert refusal(post_json(owner_client, dataset, [count_record(start=start, end=end)])) == [
        (pointer, "out_of_range")
    ]
    assert not Record.objects.unguarded("integrity").exists()


def test_an_event_calendar_plans_events_up_to_three_years_ahead(owner_client, city):
    """Sensor data cannot lie ahead, but planned events do: a forecast reads the coming ones."""
    calendar = make_dataset(city, code="event-calendar")

    def event(event_id, days_ahead):
        start = datetime.now(UTC) + timedelta(days=days_ahead)
        end = start + timedelta(hours=4)
        return {"event_id": event_id, "event_name": "Night market", "expected_visitors": 5000,
                "observed_from": start.isoformat(), "observed_to": end.isoformat()}  # fmt: skip

    response = post_json(owner_client, calendar, [event("tomorrow", 1), event("in-two-years", 1000)])
    assert response.status_code == 201, response.content
    assert set(Record.objects.unguarded("integrity").values_list("series", flat=True)) == {"tomorrow", "in-two-years"}
    too_far = post_json(owner_client, calendar, [event("in-four-years", 4 * 365)])
    assert refusal(too_far) == [("/records/0/observed_from", "out_of_range")]
    assert "3 years from now" in too_far.json()["errors"][0]["detail"]


def test_the_window_is_one_setting_and_its_first_day_is_in(owner_client, dataset, settings):
    first = count_record(start="1990-01-01T00:00:00Z", end="1990-01-01T00:05:00Z")
    dataset.sensors.update(installed_at=None)
    assert post_json(owner_client, dataset, [first]).status_code == 201
    settings.RECORDS_EARLIEST = "2000-01-01"
    later = count_record(start="1999-12-31T23:00:00Z", end="1999-12-31T23:05:00Z")
    assert refusal(post_json(owner_client, dataset, [later])) == [("/records/0/observed_from", "out_of_range")]


def test_an_interval_lasts_at_most_the_schemas_period(owner_client, dataset, city):
    assert dataset.schema_version.max_interval == timedelta(minutes=5)
    long = count_record(start="2026-01-05T10:00:00Z", end="2026-01-05T10:05:01Z")
    response = post_json(owner_client, dataset, [long])
    assert refusal(response) == [("/records/0/observed_to", "interval_too_long")]
    assert "at most 5 minutes" in response.json()["errors"][0]["detail"]
    hourly = make_dataset(city, code="hourly-pedestrian-count", sensors=[make_sensor(city, city, "hour-1")])
    hour = {"sensor": "hour-1", "observed_from": "2026-01-05T10:00:00Z", "observed_to": "2026-01-05T11:00:00Z"}
    assert post_json(owner_client, hourly, [{**hour, "count": 5}]).status_code == 201
    two = {**hour, "observed_to": "2026-01-05T12:00:00Z", "count": 5}
    assert refusal(post_json(owner_client, hourly, [two])) == [("/records/0/observed_to", "interval_too_long")]


def test_counts_above_the_schemas_maximum_are_refused_also_in_part(owner_client, dataset):
    too_many = count_record(count_in=MAX_COUNT + 1)
    assert refusal(post_json(owner_client, dataset, [too_many])) == [("/records/0/count_in", "out_of_range")]
    negative = post_json(owner_client, dataset, [count_record(count_out=-1)])
    assert refusal(negative) == [("/records/0/count_out", "out_of_range")]
    assert "never a negative count" in negative.json()["errors"][0]["detail"]
    good = count_record(start="2026-01-05T11:00:00Z", end="2026-01-05T11:05:00Z")
    partial = post_json(owner_client, dataset, [good, count_record(count_in=2**63)], partial=True)
    assert partial.status_code == 201, partial.content
    assert [(e["pointer"], e["code"]) for e in partial.json()["errors"]] == [("/records/1/count_in", "out_of_range")]
    assert Record.objects.unguarded("integrity").count() == 1


def test_csv_and_fiware_records_meet_the_same_bounds(owner_client, dataset, city):
    csv = CSV_HEADER + "gate-1,0001-01-01T00:00:00+05:00,2026-01-05T10:05:00Z,1,1\n"
    response = owner_client.post(RECORDS.format(dataset.pk), csv, content_type="text/csv")
    assert refusal(response) == [("/records/0/observed_from", "out_of_range")]
    assert response.json()["errors"][0]["line"] == 2
    flows = make_dataset(city, code="crowd-flow", sensors=[make_sensor(city, city, "flow-1")])
    entity = {"id": "flow-1", "type": "CrowdFlowObserved", "dateObservedFrom": "2026-01-05T10:00:00Z",
              "dateObservedTo": "2026-01-05T11:00:00Z", "peopleCount": 10}  # fmt: skip
    response = owner_client.post(
        RECORDS.format(flows.pk) + "fiware/", orjson.dumps([entity]), content_type="application/json"
    )
    assert refusal(response) == [("/records/0/observed_to", "interval_too_long")]
    entity.update(dateObservedTo="2026-01-05T10:05:00Z", peopleCount=MAX_COUNT + 1)
    response = owner_client.post(
        RECORDS.format(flows.pk) + "fiware/", orjson.dumps([entity]), content_type="application/json"
    )
    assert refusal(response) == [("/records/0/people_count", "out_of_range")]


def test_the_database_holds_counts_to_the_maximum(dataset, gates):
    for column in ("count_in", "count_out", "count"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Record.objects.unguarded("integrity").create(
                dataset=dataset, sensor=gates[0], observed_from=datetime(2026, 1, 5, tzinfo=UTC), **{column: -1}
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            Record.objects.unguarded("integrity").create(
                dataset=dataset,
                sensor=gates[0],
                observed_from=datetime(2026, 1, 5, tzinfo=UTC),
                **{column: MAX_COUNT + 1},
            )


def test_every_count_measure_states_the_maximum():
    for document in registry.schema_documents():
        for measure in document["measures"]:
            spec = document["record_schema"]["properties"][measure["name"]]
            if spec["type"] == "integer":
                assert spec["maximum"] == MAX_COUNT, (document["code"], measure["name"])
    for version in SchemaVersion.objects.all():  # the published documents say it too
        for measure in version.measures:
            if version.record_schema["properties"][measure["name"]]["type"] == "integer":
                assert version.record_schema["properties"][measure["name"]]["maximum"] == MAX_COUNT


def test_a_schema_without_a_maximum_is_not_published():
    document = next(d for d in registry.schema_documents() if d["code"] == "crowd-count-line")
    del document["record_schema"]["properties"]["count_in"]["maximum"]
    with pytest.raises(registry.SchemaDocumentError, match="needs a maximum"):
        registry.check_document(document, "crowd-count-line")


def test_completeness_per_bucket_follows_the_schema_period(owner_client, dataset, city, key_client):
    from tests.purposes.conftest import make_purpose

    assert dataset.schema_version.expected_records_per_hour == 12
    ten = datetime(2026, 1, 5, 10, tzinfo=UTC)
    records = [
        count_record(start=(ten + timedelta(minutes=m)).isoformat(), end=(ten + timedelta(minutes=m + 5)).isoformat(),
                     count_in=0, count_out=0)
        for m in range(0, 60, 5)
    ] + [count_record(start="2026-01-05T11:00:00Z", end="2026-01-05T11:05:00Z", count_in=20, count_out=20)]  # fmt: skip
    assert post_json(owner_client, dataset, records).status_code == 201
    purpose = make_purpose(city, "stad-crowd-safety")
    dataset.collection_purposes.set([purpose])
    reader = key_client(city, Role.ANALYST)
    cells = reader.get(
        "/api/v1/aggregates/counts/", {"dataset": dataset.pk, "bucket": "hour"}, HTTP_X_PURPOSE=purpose.code
    ).json()["results"]
    assert [(c["records"], c["expected_records"], c["completeness"], c["count"]) for c in cells] == [
        (12, 12, 1.0, 0),  # a counted zero
        (1, 12, round(1 / 12, 4), 40),  # a partial hour
    ]
    day = reader.get(
        "/api/v1/aggregates/counts/", {"dataset": dataset.pk, "bucket": "day"}, HTTP_X_PURPOSE=purpose.code
    ).json()["results"]
    assert [(c["records"], c["expected_records"]) for c in day] == [(13, 288)]
    assert IngestBatch.objects.count() == 1
