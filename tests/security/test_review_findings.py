"""What the outside review of issue 8 found after the first round of fixes; each test failed before its fix."""

import pytest

from accounts.models import Role
from sensors.models import Sensor, SensorStatus, Visibility

pytestmark = pytest.mark.django_db


def vendor_import(client, city, vendor, text):
    url = f"/api/v1/sensors/import/?controller={city.slug}&operator={vendor.slug}&sensor_type=counting-camera"
    return client.generic("POST", url, text.encode(), content_type="text/csv")


def test_an_operator_import_cannot_rewrite_a_confirmed_sensor(city_a, vendor, vendor_keys, police_camera):
    """A vendor re-publishing the city's police camera (public, moved, back to proposed) by CSV import."""
    text = f"reference,name,latitude,longitude,visibility\n{police_camera.reference},x,52,5,public\n"
    response = vendor_import(vendor_keys[Role.INTEGRATOR], city_a, vendor, text)
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["column"] == "reference"
    camera = Sensor.objects.get(pk=police_camera.pk)
    assert (camera.visibility, camera.status, camera.name) == (
        Visibility.RESTRICTED,
        SensorStatus.ACTIVE,
        "Camera for the police",
    )


def test_an_operator_import_still_updates_its_own_proposals(city_a, vendor, vendor_keys):
    client = vendor_keys[Role.INTEGRATOR]
    first = vendor_import(client, city_a, vendor, "reference,name,latitude,longitude\nnew-1,First,52,5\n")
    assert first.status_code == 201, first.content
    again = vendor_import(client, city_a, vendor, "reference,name,latitude,longitude\nnew-1,Renamed,52,5\n")
    assert again.status_code == 200 and again.json()["updated"] == 1
    sensor = Sensor.objects.get(operator=vendor, reference="new-1")
    assert (sensor.name, sensor.status) == ("Renamed", SensorStatus.PROPOSED)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("reference,name,latitude,longitude\nr1,n\n", 422),  # short row: empty cells, so no location
        ("reference,name,latitude,longitude\nr1,n,52,5,extra\n", 400),  # more cells than columns
    ],
    ids=["short row", "long row"],
)
def test_rows_of_another_length_than_the_header_answer_4xx(city_a, vendor, vendor_keys, text, status):
    response = vendor_import(vendor_keys[Role.INTEGRATOR], city_a, vendor, text)
    assert response.status_code == status, response.content


@pytest.mark.parametrize("value", [1.5, 2.0, True], ids=["fraction", "whole float", "boolean"])
def test_an_id_must_be_a_whole_number(a_keys, a_area, value):
    """`{"areas": [1.5]}` named area 1: a number that is no id is refused, not rounded to one."""
    body = {"title": "T", "description": "d", "schema": "crowd-count-line", "contact_point": "a@b.example"}
    response = a_keys[Role.DATA_STEWARD].post("/api/v1/datasets/", {**body, "areas": [value]}, format="json")
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["pointer"] == "/areas"
    assert response.json()["errors"][0]["code"] == "incorrect_type"
