"""No answer names or confirms an object the caller cannot read: another organisation's sensor answers
like one that does not exist, in validation messages, ingest errors, imports and conflicts."""

import orjson
import pytest

from accounts.models import OrganisationKind, Role
from datasets.models import Dataset
from sensors.models import Sensor, SensorStatus, Visibility
from tests.factories import OrganisationFactory
from tests.security.conftest import (
    CAMERA_PK,
    MISSING_PK,
    SECRET_REFERENCE,
    make_dataset,
    make_sensor,
    same_answer,
)

pytestmark = pytest.mark.django_db


def missing_pk():
    return MISSING_PK


@pytest.mark.parametrize("status", [SensorStatus.PROPOSED, SensorStatus.ACTIVE])
def test_a_dataset_naming_another_organisations_camera_learns_nothing_of_it(city_a, vendor, b_keys, status):
    camera = make_sensor(
        city_a, vendor, SECRET_REFERENCE, 6.7, 53.3, status=status, pk=CAMERA_PK,
        visibility=Visibility.RESTRICTED, restriction_reason="Police.",
    )  # fmt: skip
    steward = b_keys[Role.DATA_STEWARD]
    body = {"title": "B", "description": "B", "schema": "crowd-count-line", "contact_point": "b@b.example",
            "access": "open_aggregate", "status": "active"}  # fmt: skip
    foreign = steward.post("/api/v1/datasets/", {**body, "sensors": [camera.pk]})
    missing = steward.post("/api/v1/datasets/", {**body, "sensors": [missing_pk()]})
    assert foreign.status_code == 422
    assert SECRET_REFERENCE not in foreign.content.decode()
    assert same_answer(foreign, missing, camera.pk, missing_pk())
    assert not Dataset.objects.exists()


@pytest.fixture
def shared_dataset(city_a, vendor, police_camera):
    """City A's dataset fed by the police camera (run by the vendor) and by a second vendor's counter."""
    other_vendor = OrganisationFactory(kind=OrganisationKind.VENDOR, slug="other-vendor")
    counter = make_sensor(city_a, other_vendor, "ov-counter-1", 5.2, 52.2)
    return make_dataset(city_a, sensors=[police_camera, counter]), other_vendor, counter


def push(client, dataset, record):
    return client.post(
        f"/api/v1/datasets/{dataset.pk}/records/", orjson.dumps({"records": [record]}), content_type="application/json"
    )


def record(**key):
    return {"observed_from": "2026-01-05T10:00:00Z", "observed_to": "2026-01-05T10:05:00Z", "count_in": 10,
            "count_out": 4, **key}  # fmt: skip


def rejection(response, value) -> dict:
    """A rejected batch's answer without its batch number, the probed value blotted out."""
    assert response.status_code == 422, response.content
    body = response.json()
    body.pop("batch")
    return orjson.loads(orjson.dumps(body).decode().replace(str(value), "«probed»"))


def test_an_operator_pushing_cannot_probe_other_operators_sensors(shared_dataset, police_camera, keys):
    dataset, other_vendor, counter = shared_dataset
    integrator = keys(other_vendor)[Role.INTEGRATOR]
    assert push(integrator, dataset, record(sensor=counter.reference)).status_code == 201
    by_reference = push(integrator, dataset, record(sensor=SECRET_REFERENCE))
    unknown = push(integrator, dataset, record(sensor="no-such-reference"))
    assert rejection(by_reference, SECRET_REFERENCE) == rejection(unknown, "no-such-reference")
    by_id = push(integrator, dataset, record(sensor_id=police_camera.pk))
    missing = push(integrator, dataset, record(sensor_id=missing_pk()))
    assert rejection(by_id, police_camera.pk) == rejection(missing, missing_pk())


def test_the_owner_still_pushes_for_every_sensor(shared_dataset, police_camera, a_keys):
    dataset, _, _ = shared_dataset
    assert push(a_keys[Role.INTEGRATOR], dataset, record(sensor=SECRET_REFERENCE)).status_code == 201


def import_csv(client, text, **params):
    query = "&".join(
        f"{key}={value}" for key, value in {"mapping": "platform", "sensor_type": "radar", **params}.items()
    )
    return client.generic("POST", f"/api/v1/sensors/import/?{query}", text.encode(), content_type="text/csv")


def test_a_city_importing_for_a_vendor_cannot_probe_the_vendors_references(police_camera, city_b, b_keys):
    # The vendor runs the camera for city A. City B's import names the vendor as operator: whether the
    # vendor has that reference (for someone else) must not show, nor may B create sensors in its name.
    steward = b_keys[Role.DATA_STEWARD]
    rows = "reference,name,latitude,longitude\n{},Probe,52.0,5.0\n"
    taken = import_csv(steward, rows.format(SECRET_REFERENCE), controller="stad-b", operator="telco")
    free = import_csv(steward, rows.format("never-used"), controller="stad-b", operator="telco")
    assert taken.status_code == free.status_code == 422, (taken.content, free.content)
    assert same_answer(taken, free, SECRET_REFERENCE, "never-used")
    assert not Sensor.objects.filter(controller=city_b).exists()
    police_camera.refresh_from_db()
    assert police_camera.name == "Camera for the police"


def test_a_city_still_updates_by_import_the_sensors_it_controls(public_sensor, a_keys):
    rows = f"reference,name,latitude,longitude\n{public_sensor.reference},Renamed by import,52.1,5.1\n"
    response = import_csv(a_keys[Role.DATA_STEWARD], rows, controller="stad-a", operator="telco")
    assert response.status_code == 200, response.content
    assert response.json()["updated"] == 1
    public_sensor.refresh_from_db()
    assert public_sensor.name == "Renamed by import"


def test_a_controller_cannot_probe_its_operators_references_by_renaming(city_b, vendor, public_sensor, a_keys):
    make_sensor(city_b, vendor, "b-secret-ref", 7.0, 51.0)
    steward = a_keys[Role.DATA_STEWARD]
    url = f"/api/v1/sensors/{public_sensor.pk}/"
    taken = steward.patch(url, {"reference": "b-secret-ref"})
    free = steward.patch(url, {"reference": "never-used"})
    assert taken.status_code in (403, 422), taken.content
    assert same_answer(taken, free, "b-secret-ref", "never-used")
    public_sensor.refresh_from_db()
    assert public_sensor.reference == "a-counter-1"


def test_the_operator_renames_its_own_sensor(public_sensor, vendor_keys):
    public_sensor.status = SensorStatus.PROPOSED  # while proposed, the operator may change it
    public_sensor.save()
    response = vendor_keys[Role.INTEGRATOR].patch(f"/api/v1/sensors/{public_sensor.pk}/", {"reference": "renamed"})
    assert response.status_code == 200, response.content
    assert response.json()["reference"] == "renamed"


def test_a_server_administrators_import_still_registers_for_another_operator(city_b, vendor, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    csv_file = tmp_path / "sensors.csv"
    csv_file.write_text("reference,name,latitude,longitude\nadm-1,By the administrator,51.0,7.0\n")
    out = StringIO()
    call_command(
        "import_sensors", str(csv_file), "--mapping", "platform", "--controller", "stad-b", "--operator", "telco",
        "--sensor-type", "radar", stdout=out,
    )  # fmt: skip
    assert Sensor.objects.filter(controller=city_b, operator=vendor, reference="adm-1").exists()
