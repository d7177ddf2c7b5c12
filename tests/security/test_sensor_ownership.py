"""A sensor stays with the organisations it was registered for: `controller` and `operator` are fixed
once registered (moving a sensor is not offered), registering needs the caller's own organisation as
operator, and the history names who really acted."""

import pytest

from accounts.models import OrganisationKind, Role
from sensors.models import Sensor, SensorEvent, SensorStatus
from tests.factories import OrganisationFactory
from tests.security.conftest import same_answer

pytestmark = pytest.mark.django_db
SENSORS = "/api/v1/sensors/"


def snapshot(sensor):
    sensor.refresh_from_db()
    return (sensor.controller_id, sensor.operator_id, sensor.events.count())


def assert_transfer_refused(response, field):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "transfer_not_offered"
    assert [error["pointer"] for error in body["errors"]] == [f"/{field}"]
    assert "not offered" in body["detail"]


def test_the_controller_cannot_hand_an_active_sensor_to_another_city(public_sensor, city_b, a_keys):
    before = snapshot(public_sensor)
    response = a_keys[Role.DATA_STEWARD].patch(f"{SENSORS}{public_sensor.pk}/", {"controller": city_b.slug})
    assert_transfer_refused(response, "controller")
    assert snapshot(public_sensor) == before


def test_an_integrator_cannot_move_a_proposed_sensor_to_another_operator(public_sensor, vendor_keys):
    public_sensor.status = SensorStatus.PROPOSED
    public_sensor.save()
    victim = OrganisationFactory(kind=OrganisationKind.VENDOR, slug="victim-bv")
    before = snapshot(public_sensor)
    response = vendor_keys[Role.INTEGRATOR].patch(f"{SENSORS}{public_sensor.pk}/", {"operator": victim.slug})
    assert_transfer_refused(response, "operator")
    assert snapshot(public_sensor) == before
    assert not SensorEvent.objects.filter(actor_organisation=victim).exists()


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("field", ["controller", "operator"])
def test_every_writer_is_refused_alike_whatever_the_value(public_sensor, city_b, a_keys, method, field):
    # Another organisation, one that does not exist, or no slug at all: the same 400, and nothing looked up.
    client = a_keys[Role.ADMIN]
    url = f"{SENSORS}{public_sensor.pk}/"
    whole = client.get(url).json()
    answers = [getattr(client, method)(url, {**whole, field: value}) for value in (city_b.slug, "nobody", None, 7)]
    for response in answers:
        assert_transfer_refused(response, field)
    assert same_answer(answers[0], answers[1], city_b.slug, "nobody")
    assert snapshot(public_sensor)[:2] == (public_sensor.controller_id, public_sensor.operator_id)


def test_the_same_value_is_accepted(public_sensor, a_keys):
    client = a_keys[Role.DATA_STEWARD]
    url = f"{SENSORS}{public_sensor.pk}/"
    whole = client.get(url).json()
    response = client.put(url, {**whole, "name": "Renamed"})
    assert response.status_code == 200, response.content
    assert response.json()["controller"] == "stad-a" and response.json()["operator"] == "telco"
    response = client.patch(url, {"controller": "stad-a", "operator": "telco", "name": "Again"})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("role", Role.values)
def test_registering_needs_the_callers_own_organisation_in_every_role(city_b, vendor, a_keys, role):
    # City A's key, in any role, cannot register a sensor between two other organisations.
    response = a_keys[role].post(
        SENSORS,
        {
            "reference": f"x-{role}",
            "name": "Elsewhere",
            "sensor_type": "radar",
            "controller": city_b.slug,
            "operator": vendor.slug,
            "location": {"type": "Point", "coordinates": [5.0, 52.0]},
            "personal_data_at_edge": False,
        },
    )
    assert response.status_code in (403, 422), response.content
    assert not Sensor.objects.exists()


def test_the_history_names_who_really_acted(city_a, vendor, vendor_keys, a_keys):
    integrator, steward = vendor_keys[Role.INTEGRATOR], a_keys[Role.DATA_STEWARD]
    created = integrator.post(
        SENSORS,
        {
            "reference": "hist-1",
            "name": "History",
            "sensor_type": "radar",
            "controller": city_a.slug,
            "location": {"type": "Point", "coordinates": [5.0, 52.0]},
            "personal_data_at_edge": False,
        },
    ).json()
    url = f"{SENSORS}{created['id']}/"
    assert integrator.patch(url, {"name": "History, corrected"}).status_code == 200
    assert steward.post(f"{url}confirm/").status_code == 200
    assert steward.patch(url, {"name": "History, by the city"}).status_code == 200
    events = steward.get(f"{url}history/").json()
    assert [(e["action"], e["actor_organisation"], e["actor"]) for e in events] == [
        ("registered", "telco", f"api-key:{integrator.prefix}"),
        ("updated", "telco", f"api-key:{integrator.prefix}"),
        ("confirmed", "stad-a", f"api-key:{steward.prefix}"),
        ("updated", "stad-a", f"api-key:{steward.prefix}"),
    ]


def test_a_vendors_import_is_on_the_vendors_name(city_a, vendor, vendor_keys, a_keys):
    text = "reference,name,latitude,longitude\nimp-1,Imported,52.0,5.0\n"
    response = vendor_keys[Role.INTEGRATOR].generic(
        "POST",
        "/api/v1/sensors/import/?mapping=platform&controller=stad-a&operator=telco&sensor_type=radar",
        text.encode(),
        content_type="text/csv",
    )
    assert response.status_code == 201, response.content
    event = SensorEvent.objects.get(sensor__reference="imp-1")
    assert (event.action, event.actor_organisation, event.actor_key_prefix) == (
        "imported",
        vendor,
        vendor_keys[Role.INTEGRATOR].prefix,
    )
