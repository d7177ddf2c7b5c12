"""A sensor's service life through the API: moments for suspend/resume/remove, corrections with history,
and one definition of "in service at t" (the database and the Python forms agree)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Value
from django.utils import timezone

from sensors.models import ActivePeriod, Sensor, SensorEvent, Suspension
from sensors.service_life import ServiceLife, in_service_q

pytestmark = pytest.mark.django_db
SENSORS = "/api/v1/sensors/"


@pytest.fixture
def confirmed(register, steward_client):
    sensor = register(installed_at="2019-09-25")
    assert steward_client.post(f"{SENSORS}{sensor['id']}/confirm/").status_code == 200
    return f"{SENSORS}{sensor['id']}/"


def test_a_city_records_that_a_sensor_was_removed_on_a_past_date(confirmed, steward_client):
    response = steward_client.post(f"{confirmed}remove/", {"at": "2020-03-01"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["removed_at"], body["active_until"]) == (
        "removed",
        "2020-03-01T00:00:00Z",
        "2020-02-29",
    )
    last = steward_client.get(f"{confirmed}history/").json()[-1]
    assert last["action"] == "removed"
    assert last["changes"]["removed_at"] == [None, "2020-03-01T00:00:00Z"]


def test_suspensions_record_their_moments(confirmed, steward_client):
    assert steward_client.post(f"{confirmed}suspend/", {"at": "2020-02-01T10:00:00+01:00"}).status_code == 200
    assert steward_client.post(f"{confirmed}resume/", {"at": "2020-02-03T08:30:00Z"}).status_code == 200
    body = steward_client.post(f"{confirmed}suspend/", {"at": "2021-01-01T00:00:00Z"}).json()
    assert body["suspensions"] == [
        {"starts_at": "2020-02-01T09:00:00Z", "ends_at": "2020-02-03T08:30:00Z"},
        {"starts_at": "2021-01-01T00:00:00Z", "ends_at": None},
    ]
    assert body["status"] == "suspended"
    # Removed while suspended: the suspension ends with the removal; resuming reinstates it later.
    body = steward_client.post(f"{confirmed}remove/", {"at": "2021-06-01T00:00:00Z"}).json()
    assert body["suspensions"][-1]["ends_at"] == body["removed_at"] == "2021-06-01T00:00:00Z"
    body = steward_client.post(f"{confirmed}resume/", {"at": "2022-01-01T00:00:00Z"}).json()
    assert (body["status"], body["removed_at"]) == ("active", None)
    assert body["suspensions"][-1] == {"starts_at": "2021-06-01T00:00:00Z", "ends_at": "2022-01-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("at", "why"),
    [
        (lambda: (timezone.now() + timedelta(hours=1)).isoformat(), "future"),
        (lambda: "2019-09-24T00:00:00Z", "after the sensor's last recorded service event"),
        (lambda: "2019-09-25T00:00:00Z", "after the sensor's last recorded service event"),
        (lambda: "yesterday", "format"),
    ],
)
def test_a_moment_in_the_future_or_before_the_last_event_is_refused(confirmed, steward_client, at, why):
    response = steward_client.post(f"{confirmed}remove/", {"at": at()})
    assert response.status_code in (400, 422), response.content
    assert response["Content-Type"] == "application/problem+json"
    error = response.json()["errors"][0]
    assert error["pointer"] == "/at"
    assert why in error["detail"]
    assert Sensor.objects.get().status == "active"


def test_the_controller_corrects_the_service_life_with_history(confirmed, steward_client, vendor_client):
    life = {
        "installed_at": "2019-06-01",
        "suspensions": [{"starts_at": "2019-12-24T00:00:00Z", "ends_at": "2020-01-02T00:00:00Z"}],
        "removed_at": "2020-03-01T00:00:00Z",
        "note": "Installation date from the contractor's report",
    }
    assert vendor_client.put(f"{confirmed}service-life/", life, format="json").status_code in (403, 404)
    response = steward_client.put(f"{confirmed}service-life/", life, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["installed_at"], body["status"], len(body["suspensions"])) == ("2019-06-01T00:00:00Z", "removed", 1)
    event = SensorEvent.objects.filter(action="updated").get()
    assert event.note == life["note"]
    assert event.changes["installed_at"] == ["2019-09-25T00:00:00Z", "2019-06-01T00:00:00Z"]
    # Overlapping suspensions are refused with a pointer; nothing changes.
    bad = {**life, "suspensions": [*life["suspensions"], {"starts_at": "2019-12-30T00:00:00Z", "ends_at": None}]}
    response = steward_client.put(f"{confirmed}service-life/", bad, format="json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"].startswith("/suspensions/1/")
    assert Suspension.objects.count() == 1


def test_the_database_and_the_python_definitions_agree(register, steward_client):
    url = SENSORS + str(register(installed_at="2020-01-01")["id"]) + "/"
    steward_client.post(f"{url}confirm/")
    steward_client.post(f"{url}suspend/", {"at": "2020-02-01T00:00:00Z"})
    steward_client.post(f"{url}resume/", {"at": "2020-03-01T00:00:00Z"})
    steward_client.post(f"{url}remove/", {"at": "2021-01-01T00:00:00Z"})
    sensor = Sensor.objects.get()
    ActivePeriod.objects.create(
        sensor=sensor, starts_at=datetime(2019, 12, 1, tzinfo=UTC), ends_at=datetime(2020, 12, 1, tzinfo=UTC)
    )
    life = ServiceLife.of(Sensor.objects.prefetch_related("suspensions", "active_periods").get())
    moments = (
        [datetime(2019, 12, 31, 23, 59, 59, tzinfo=UTC)]
        + [datetime(2020, month, day, tzinfo=UTC) for month in range(1, 13) for day in (1, 15)]
        + [datetime(2020, 12, 1, tzinfo=UTC) - timedelta(microseconds=1), datetime(2021, 1, 1, tzinfo=UTC)]
    )
    answers = []
    for moment in moments:
        in_db = Sensor.objects.filter(in_service_q(moment)).exists()
        assert in_db == life.in_service(moment), moment
        # The form that finds a sensor's stored records outside its life (a moment column, here annotated).
        outside = Sensor.objects.annotate(moment=Value(moment)).filter(life.outside_q("moment")).exists()
        assert outside == (not in_db), moment
        answers.append(in_db)
    assert True in answers and False in answers


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_installation_filters_take_whole_utc_days(register, steward_client):
    # installed_at became a moment: a day filter covers the whole UTC day, both ends inclusive (no naive moments).
    late = register(installed_at="2019-09-25T23:30:00Z")
    for query, expected in (
        ("installed_after=2019-09-25", True),
        ("installed_after=2019-09-26", False),
        ("installed_before=2019-09-25", True),
        ("installed_before=2019-09-24", False),
    ):
        ids = {row["id"] for row in steward_client.get(f"{SENSORS}?{query}&format=json").json()["results"]}
        assert (late["id"] in ids) is expected, query
