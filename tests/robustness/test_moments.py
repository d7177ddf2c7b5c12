"""Moments (query parameters and body fields) with any UTC offset Python reads, and at the ends of the
calendar, answer 2xx or a 4xx naming the field: PostgreSQL takes offsets up to 15:59 only, and Python
cannot hold a year-1 moment moved east or a year-9999 moment moved west."""

import base64

import django_filters
import orjson
import pytest
from django import forms

from api.moments import MomentField
from tests.purposes.conftest import make_purpose
from tests.robustness.conftest import assert_problem, pointers

pytestmark = pytest.mark.django_db

EXTREME = [
    "2026-01-05T10:00:00-21:31",
    "2026-01-05T10:00:00+23:59",
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T23:59:59Z",
]


def ok_or_problem(response, name):
    if response.status_code >= 400:
        body = assert_problem(response)
        assert pointers(body) == {f"/{name}"}, body
    return response


@pytest.mark.parametrize("moment", EXTREME)
def test_register_active_at(anonymous, sensor, moment):
    response = ok_or_problem(anonymous.get("/api/v1/public/sensors/", {"active_at": moment}), "active_at")
    if moment.endswith("-21:31"):  # 2026-01-06T07:31Z: a moment PostgreSQL must see in UTC
        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == [sensor.pk]


@pytest.mark.parametrize("moment", EXTREME)
@pytest.mark.parametrize("name", ["after", "before"])
def test_access_event_filters(steward, moment, name):
    ok_or_problem(steward.get("/api/v1/access-events/", {name: moment}), name)


@pytest.mark.parametrize("moment", EXTREME)
def test_batch_filter(steward, dataset, moment):
    ok_or_problem(steward.get(f"/api/v1/datasets/{dataset.pk}/batches/", {"received_after": moment}), "received_after")


@pytest.mark.parametrize("moment", [*EXTREME, "0001-01-01T00:00:00+00:00", "9999-12-31T00:00:00Z"])
@pytest.mark.parametrize("name", ["from", "to"])
@pytest.mark.parametrize("path", ["/api/v1/records/", "/api/v1/aggregates/counts/"])
def test_records_and_counts_ranges(steward, dataset, purpose, moment, name, path):
    response = steward.get(path, {"dataset": dataset.pk, name: moment}, HTTP_X_PURPOSE=purpose.code)
    ok_or_problem(response, name)


@pytest.mark.parametrize("moment", EXTREME)
def test_record_times(integrator, dataset, moment):
    record = {
        "sensor": "gate-1",
        "observed_from": moment,
        "observed_to": "2026-01-05T10:05:00Z",
        "count_in": 1,
        "count_out": 1,
    }
    response = integrator.post(
        f"/api/v1/datasets/{dataset.pk}/records/", orjson.dumps({"records": [record]}), content_type="application/json"
    )
    if response.status_code >= 400:
        body = assert_problem(response)
        assert pointers(body) <= {"/records/0/observed_from", "/records/0/observed_to", "/records/0/sensor"}


@pytest.mark.parametrize("moment", EXTREME)
def test_active_periods(steward, sensor, moment):
    periods = [{"starts_at": moment, "ends_at": "9999-12-31T23:59:59Z"}]
    response = steward.patch(f"/api/v1/sensors/{sensor.pk}/", {"active_periods": periods}, format="json")
    if response.status_code >= 400:
        assert_problem(response)


@pytest.mark.parametrize(
    "key,moment",
    [
        (1, "2026-01-05T10:00:00-21:31"),  # read in UTC: a cursor like any other
        (1, "0001-01-01T00:00:00+05:00"),
        (1, "9999-12-31T23:59:59-05:00"),
        ("a\x00b", "2026-01-05T10:00:00Z"),
        (1, 20260105),
        (1, None),
    ],
)
def test_a_cursor_with_a_moment_or_key_the_database_cannot_take_is_refused(steward, dataset, purpose, key, moment):
    cursor = base64.urlsafe_b64encode(orjson.dumps([key, moment])).decode().rstrip("=")
    response = steward.get("/api/v1/records/", {"dataset": dataset.pk, "cursor": cursor}, HTTP_X_PURPOSE=purpose.code)
    if moment == "2026-01-05T10:00:00-21:31":
        assert response.status_code == 200, response.content
    else:
        assert pointers(assert_problem(response, 422)) == {"/cursor"}


def subclasses(klass):
    for sub in klass.__subclasses__():
        yield sub
        yield from subclasses(sub)


def test_every_moment_filter_is_a_moment_filter():
    """Every filterset reads moments with MomentFilter, so a new one cannot forget the UTC turn."""
    ours = [
        fs
        for fs in subclasses(django_filters.FilterSet)
        if fs.__module__.split(".")[0] in {"sensors", "datasets", "purposes", "accounts", "api"}
    ]
    assert len(ours) >= 5
    moments = 0
    for filterset in ours:
        for name, declared in filterset.base_filters.items():
            if issubclass(declared.field_class, forms.DateTimeField | forms.SplitDateTimeField):
                assert issubclass(declared.field_class, MomentField), f"{filterset.__qualname__}.{name}"
                moments += 1
    assert moments >= 4


@pytest.mark.parametrize(
    "start,end",
    [
        ("0001-01-01T00:00:00+05:00", "0001-01-01T02:00:00+05:00"),  # year 0 in UTC
        ("0001-01-01T12:00:00Z", "0001-01-01T14:00:00Z"),  # within a day of the calendar's start
        ("2026-01-05T10:00:00-21:31", "2026-01-05T12:00:00-21:31"),
    ],
)
def test_event_times_at_the_ends_of_the_calendar(integrator, steward, city, event_dataset, start, end):
    record = {
        "event_id": "k",
        "event_name": "Kermis",
        "observed_from": start,
        "observed_to": end,
        "expected_visitors": 9,
    }
    response = integrator.post(
        f"/api/v1/datasets/{event_dataset.pk}/records/",
        orjson.dumps({"records": [record]}),
        content_type="application/json",
    )
    if start.startswith("2026"):
        assert response.status_code == 201, response.content
    else:
        assert pointers(assert_problem(response, 422)) == {"/records/0/observed_from"}
    events = make_purpose(city, "stad-events")
    event_dataset.collection_purposes.set([events])
    read = steward.get("/api/v1/records/", {"dataset": event_dataset.pk}, HTTP_X_PURPOSE=events.code)
    assert read.status_code == 200, read.content


def test_a_cursor_key_with_nul_is_refused(steward, city, event_dataset):
    events = make_purpose(city, "stad-events")
    event_dataset.collection_purposes.set([events])
    cursor = base64.urlsafe_b64encode(orjson.dumps(["a\x00b", "2026-01-05T10:00:00Z"])).decode().rstrip("=")
    response = steward.get(
        "/api/v1/records/", {"dataset": event_dataset.pk, "cursor": cursor}, HTTP_X_PURPOSE=events.code
    )
    assert pointers(assert_problem(response, 422)) == {"/cursor"}
