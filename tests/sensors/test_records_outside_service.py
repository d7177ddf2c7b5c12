"""A backdated service-life change never deletes stored records (they are evidence), and never leaves them
without a word: its answer and the sensor's history name how many stored records of the sensor now lie
outside its service life, for the controller only."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Role
from datasets.models import Record
from sensors.models import SensorEvent
from tests.datasets.conftest import count_record, make_dataset

pytestmark = pytest.mark.django_db
SENSORS = "/api/v1/sensors/"
# Five-minute counts of the sensor (reference cam-001), stored before any change.
STARTS = ["2019-10-01T08:00:00Z", "2019-12-31T23:55:00Z", "2020-01-01T00:00:00Z", "2020-02-15T12:00:00Z"]


def five_minutes(start):
    end = datetime.fromisoformat(start) + timedelta(minutes=5)
    return count_record("cam-001", start, end.isoformat())


@pytest.fixture
def sensor(register, steward_client, city, key_client):
    """A confirmed sensor (installed 2019-09-25) with four records stored in its controller's dataset."""
    created = register(installed_at="2019-09-25")
    assert steward_client.post(f"{SENSORS}{created['id']}/confirm/").status_code == 200
    dataset = make_dataset(city, sensors=[created["id"]])
    response = key_client(city, Role.INTEGRATOR).post(
        f"/api/v1/datasets/{dataset.pk}/records/", {"records": [five_minutes(s) for s in STARTS]}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["created"] == len(STARTS)
    return f"{SENSORS}{created['id']}/"


def stored():
    return Record.objects.unguarded("integrity").count()


def outside(count, first=None, last=None):
    return {"count": count, "first": first, "last": last}


def test_a_backdated_removal_names_the_records_after_it_and_keeps_them(sensor, steward_client, vendor_client):
    response = steward_client.post(f"{sensor}remove/", {"at": "2020-01-01T00:00:00Z"})
    assert response.status_code == 200, response.content
    assert response.json()["records_outside_service"] == outside(2, "2020-01-01T00:00:00Z", "2020-02-15T12:00:00Z")
    assert stored() == len(STARTS)  # evidence: nothing deleted
    event = SensorEvent.objects.filter(action="removed").get()
    assert event.changes["records_outside_service"] == [
        None,
        outside(2, "2020-01-01T00:00:00Z", "2020-02-15T12:00:00Z"),
    ]
    # The controller reads it in the history; the operator (the vendor) learns nothing new there.
    mine = steward_client.get(f"{sensor}history/").json()[-1]
    assert mine["changes"]["records_outside_service"][1]["count"] == 2
    theirs = vendor_client.get(f"{sensor}history/").json()[-1]
    assert theirs["action"] == "removed"
    assert "records_outside_service" not in theirs["changes"]
    # Nor can the operator make the change and read the answer.
    assert vendor_client.post(f"{sensor}resume/", {"at": "2020-03-01T00:00:00Z"}).status_code in (403, 404)


def test_a_removal_after_the_last_record_names_none(sensor, steward_client):
    body = steward_client.post(f"{sensor}remove/", {"at": "2020-06-01T00:00:00Z"}).json()
    assert body["records_outside_service"] == outside(0)
    event = SensorEvent.objects.filter(action="removed").get()
    assert "records_outside_service" not in event.changes


def test_a_backdated_suspension_and_resumption(sensor, steward_client):
    body = steward_client.post(f"{sensor}suspend/", {"at": "2019-12-01T00:00:00Z"}).json()
    assert body["records_outside_service"] == outside(3, "2019-12-31T23:55:00Z", "2020-02-15T12:00:00Z")
    body = steward_client.post(f"{sensor}resume/", {"at": "2020-01-01T00:00:00Z"}).json()
    # Back in service from the resumption on: only the record inside the suspension lies outside.
    assert body["records_outside_service"] == outside(1, "2019-12-31T23:55:00Z", "2019-12-31T23:55:00Z")
    assert stored() == len(STARTS)


def test_a_corrected_service_life(sensor, steward_client, vendor_client):
    life = {
        "installed_at": "2019-12-01",
        "suspensions": [{"starts_at": "2020-01-01T00:00:00Z", "ends_at": "2020-02-01T00:00:00Z"}],
        "removed_at": None,
    }
    assert vendor_client.put(f"{sensor}service-life/", life, format="json").status_code in (403, 404)
    body = steward_client.put(f"{sensor}service-life/", life, format="json").json()
    assert body["records_outside_service"] == outside(2, "2019-10-01T08:00:00Z", "2020-01-01T00:00:00Z")
    event = SensorEvent.objects.filter(action="updated").get()
    assert event.changes["records_outside_service"][1]["count"] == 2
    # Correcting it back brings them in again, and says so.
    life = {"installed_at": "2019-09-25", "suspensions": [], "removed_at": None}
    body = steward_client.put(f"{sensor}service-life/", life, format="json").json()
    assert body["records_outside_service"] == outside(0)
    last = SensorEvent.objects.filter(action="updated").last()
    assert last.changes["records_outside_service"] == [outside(2, "2019-10-01T08:00:00Z", "2020-01-01T00:00:00Z"), None]


def test_a_later_installation_through_patch_is_named_to_the_controller(sensor, steward_client):
    body = steward_client.patch(sensor, {"installed_at": "2020-01-01"}, format="json").json()
    assert body["records_outside_service"] == outside(2, "2019-10-01T08:00:00Z", "2019-12-31T23:55:00Z")
    # A change that leaves the life alone still says where the records stand.
    body = steward_client.patch(sensor, {"name": "Plein, south side"}, format="json").json()
    assert body["records_outside_service"]["count"] == 2


def test_the_operator_of_a_proposal_gets_no_count(register, vendor_client):
    created = register()
    body = vendor_client.patch(f"{SENSORS}{created['id']}/", {"name": "Renamed"}, format="json").json()
    assert body["name"] == "Renamed"
    assert "records_outside_service" not in body


def test_the_count_agrees_with_the_ingest(sensor, steward_client, city, key_client):
    """What the answer counts as outside is exactly what the ingest now refuses."""
    steward_client.post(f"{sensor}suspend/", {"at": "2019-12-31T23:55:00Z"})
    body = steward_client.post(f"{sensor}resume/", {"at": "2020-02-01T00:00:00Z"}).json()
    dataset = city.datasets.get()
    answer = key_client(city, Role.INTEGRATOR).post(
        f"/api/v1/datasets/{dataset.pk}/records/?partial=true",
        {"records": [five_minutes(s) for s in STARTS]},
        format="json",
    )
    refused = sorted(STARTS[int(e["pointer"].split("/")[2])] for e in answer.json()["errors"])
    assert body["records_outside_service"]["count"] == len(refused) == 2
    assert (body["records_outside_service"]["first"], body["records_outside_service"]["last"]) == (
        refused[0],
        refused[-1],
    )
    assert datetime.fromisoformat(refused[0]) == datetime(2019, 12, 31, 23, 55, tzinfo=UTC)
