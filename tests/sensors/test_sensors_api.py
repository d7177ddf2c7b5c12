"""Sensors: the confirm workflow, history, who may change what, and bad input that stores nothing."""

import pytest

from accounts.models import OrganisationKind, Role
from sensors.models import Sensor, SensorEvent, SensorType
from tests.api.endpoint_checks import ScopedEndpointChecks
from tests.factories import OrganisationFactory
from tests.sensors.conftest import SQUARE

pytestmark = pytest.mark.django_db
SENSORS = "/api/v1/sensors/"


def test_the_taxonomy_is_shipped_in_english_and_dutch(api_client):
    response = api_client.get("/api/v1/sensor-types/")
    assert response.status_code == 200
    types = {t["code"]: t for t in response.json()["results"]}
    assert {
        "counting-camera",
        "thermal-counter",
        "lidar-counter",
        "radar",
        "wifi-counter",
        "bluetooth-counter",
        "gps-telecom-feed",
        "acoustic-anomaly-sensor",
        "manual-count",
    } <= set(types)
    for sensor_type in types.values():
        for field in ("name_nl", "explanation_en", "explanation_nl", "privacy_risk_en", "privacy_risk_nl"):
            assert sensor_type[field].strip(), (sensor_type["code"], field)
    assert types["wifi-counter"]["privacy_risk"] == "high"


@pytest.mark.smoke
def test_a_vendor_registers_and_the_controller_confirms(register, vendor, vendor_client, steward_client):
    sensor = register()
    assert sensor["status"] == "proposed"
    assert sensor["operator"] == vendor.slug
    assert sensor["location"] == {"type": "Point", "coordinates": [5.0005, 52.0005]}
    response = steward_client.post(f"{SENSORS}{sensor['id']}/confirm/", {"note": "checked the DPIA"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    history = vendor_client.get(f"{SENSORS}{sensor['id']}/history/").json()
    assert [event["action"] for event in history] == ["registered", "confirmed"]
    assert history[0]["actor"].startswith("api-key:")
    assert history[0]["actor_organisation"] == vendor.slug
    assert history[0]["changes"]["name"] == [None, "Plein, north side"]
    assert history[0]["changes"]["controller"] == [None, "testdorp"]
    assert history[0]["changes"]["sensor_type"] == [None, "thermal-counter"]
    assert history[1]["changes"] == {"status": ["proposed", "active"]}
    assert history[1]["note"] == "checked the DPIA"


def test_a_vendor_cannot_confirm_its_own_sensor(register, vendor_client):
    sensor = register()
    response = vendor_client.post(f"{SENSORS}{sensor['id']}/confirm/")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_the_controller"
    assert Sensor.objects.get(pk=sensor["id"]).status == "proposed"
    assert list(SensorEvent.objects.filter(sensor_id=sensor["id"]).values_list("action", flat=True)) == ["registered"]


def test_the_operator_edits_only_while_proposed_and_the_controller_always(register, vendor_client, steward_client):
    sensor = register()
    url = f"{SENSORS}{sensor['id']}/"
    assert vendor_client.patch(url, {"name": "Renamed by vendor"}).status_code == 200
    steward_client.post(f"{url}confirm/")
    response = vendor_client.patch(url, {"name": "Again"})
    assert response.status_code == 403
    assert Sensor.objects.get(pk=sensor["id"]).name == "Renamed by vendor"
    response = steward_client.patch(url, {"name": "Renamed by city", "raw_data_retention_hours": 0})
    assert response.status_code == 200
    updates = SensorEvent.objects.filter(sensor_id=sensor["id"], action="updated").order_by("at")
    assert [e.changes for e in updates] == [
        {"name": ["Plein, north side", "Renamed by vendor"]},
        {"name": ["Renamed by vendor", "Renamed by city"]},
    ]


def test_suspend_resume_remove_and_a_removed_sensor_stays_editable(register, steward_client):
    sensor = register()
    url = f"{SENSORS}{sensor['id']}/"
    assert steward_client.post(f"{url}suspend/").status_code == 409  # proposed cannot be suspended
    for name, expected in [
        ("confirm", "active"),
        ("suspend", "suspended"),
        ("resume", "active"),
        ("remove", "removed"),
    ]:
        response = steward_client.post(f"{url}{name}/")
        assert response.status_code == 200, (name, response.content)
        assert response.json()["status"] == expected
    response = steward_client.post(f"{url}remove/")
    assert response.status_code == 409
    assert response.json()["code"] == "wrong_status"
    # Its metadata can still be corrected; it stays removed, with its history.
    response = steward_client.patch(url, {"name": "Plein, north side (old)"})
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["status"]) == ("Plein, north side (old)", "removed")
    actions = [e["action"] for e in steward_client.get(f"{url}history/").json()]
    assert actions == ["registered", "confirmed", "suspended", "resumed", "removed", "updated"]


def test_an_analyst_of_the_controller_cannot_confirm(register, city, key_client):
    sensor = register()
    response = key_client(city, Role.ANALYST).post(f"{SENSORS}{sensor['id']}/confirm/")
    assert response.status_code == 403


def test_another_municipality_cannot_see_or_edit_the_sensor(register, key_client):
    sensor = register()
    other = key_client(OrganisationFactory(kind=OrganisationKind.MUNICIPALITY), Role.DATA_STEWARD)
    url = f"{SENSORS}{sensor['id']}/"
    assert other.get(url).status_code == 404
    assert other.patch(url, {"name": "hijacked"}).status_code == 404
    assert other.post(f"{url}confirm/").status_code == 404
    assert Sensor.objects.get(pk=sensor["id"]).name == "Plein, north side"


@pytest.mark.parametrize(
    ("changes", "status", "pointer"),
    [
        ({"location": {"type": "Point", "coordinates": [5.0, 95.0]}}, 422, "/location"),
        ({"location": {"type": "Point", "coordinates": [200.0, 52.0]}}, 422, "/location"),
        ({"location": {"type": "LineString", "coordinates": [[5.0, 52.0]]}}, 422, "/location"),
        ({"location": None}, 422, "/location"),
        ({"sensor_type": "crystal-ball"}, 422, "/sensor_type"),
        ({"controller": "nobody"}, 422, "/controller"),
        ({"measures": ["mood"]}, 422, "/measures/0"),
        ({"visibility": "restricted"}, 422, "/restriction_reason"),
        ({"installed_at": "2025-01-01", "active_until": "2024-01-01"}, 422, "/active_until"),
        (
            {"active_periods": [{"starts_at": "2026-06-02T00:00:00Z", "ends_at": "2026-06-01T00:00:00Z"}]},
            422,
            "/active_periods/0/ends_at",
        ),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(vendor_client, sensor_payload, changes, status, pointer):
    response = vendor_client.post(SENSORS, {**sensor_payload, **changes})
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert pointer in [error["pointer"] for error in response.json()["errors"]]
    assert not Sensor.objects.exists()
    assert not SensorEvent.objects.exists()


def test_a_vendor_cannot_be_the_controller(vendor, vendor_client, sensor_payload):
    response = vendor_client.post(SENSORS, {**sensor_payload, "controller": vendor.slug})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/controller"
    assert not Sensor.objects.exists()


def test_a_duplicate_reference_is_a_conflict(register, vendor_client, sensor_payload):
    register()
    response = vendor_client.post(SENSORS, sensor_payload)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "duplicate_reference"
    assert body["errors"][0]["pointer"] == "/reference"
    assert Sensor.objects.count() == 1


def test_registering_for_an_organisation_one_is_not_in_is_refused(vendor_client, sensor_payload):
    stranger = OrganisationFactory(kind=OrganisationKind.VENDOR)
    response = vendor_client.post(SENSORS, {**sensor_payload, "operator": stranger.slug})
    # The operator is the caller's own: another organisation answers like one that does not exist.
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/operator"
    assert not Sensor.objects.exists()


def test_an_area_must_belong_to_the_controller(register, vendor_client, sensor_payload, key_client):
    stranger = OrganisationFactory(kind=OrganisationKind.MUNICIPALITY)
    client = key_client(stranger, Role.DATA_STEWARD)
    foreign_area = client.post("/api/v1/areas/", {"name": "Elders", "area_type": "square", "geometry": SQUARE}).json()
    response = vendor_client.post(SENSORS, {**sensor_payload, "area": foreign_area["id"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/area"
    assert not Sensor.objects.exists()


class TestSensorEndpoint(ScopedEndpointChecks):
    list_url = SENSORS
    lookup_field = "pk"
    role = Role.DATA_STEWARD
    update_payload = {"name": "Taken over"}
    detail_actions = ["confirm", "suspend", "resume", "remove"]

    def make_object(self, organisation):
        organisation.kind = OrganisationKind.MUNICIPALITY
        organisation.save()
        return Sensor.objects.create(
            controller=organisation,
            operator=organisation,
            sensor_type=SensorType.objects.first(),
            reference=f"ref-{organisation.pk}",
            name="Somewhere",
            latitude=52.0,
            longitude=5.0,
            personal_data_at_edge=False,
        )

    def test_the_list_holds_only_the_callers_rows(self, setting):
        client, own, theirs = setting
        ids = {row["id"] for row in client.get(self.list_url).json()["results"]}
        assert own.pk in ids and theirs.pk not in ids


def test_an_operator_sees_the_sensors_it_operates(register, vendor, key_client):
    sensor = register()
    other_key_of_vendor = key_client(vendor, Role.ANALYST)
    ids = [row["id"] for row in other_key_of_vendor.get(SENSORS).json()["results"]]
    assert ids == [sensor["id"]]
