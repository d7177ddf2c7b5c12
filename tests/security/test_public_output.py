"""Public and cross-organisation output is built from what is public: a restricted sensor (a police
camera) never shows with its id or location outside its own organisations, only as a count per type and
area in the register. The owner's members still see the whole dataset."""

import json
import re
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from sensors.models import SensorStatus
from tests.security.conftest import SECRET_LAT, SECRET_LON, SECRET_REFERENCE, make_area

pytestmark = pytest.mark.django_db

PUBLIC_BOX = [5.1, 52.1, 5.1, 52.1]


def leaks(response, *secrets) -> list[str]:
    """The secrets found in the response, each as a whole (a coordinate 7.5, not the 27.5 of a timestamp's
    seconds, which made a test fail now and then)."""
    text = response.content.decode()
    return [
        str(secret)
        for secret in (SECRET_LON, SECRET_LAT, SECRET_REFERENCE, *secrets)
        if re.search(rf"(?<![0-9.]){re.escape(str(secret))}(?![0-9])", text)
    ]


def test_a_secret_is_found_whole_not_inside_another_number():
    response = SimpleNamespace(content=b'{"updated_at": "2026-11-21T20:57:27.512Z", "bbox": [4.0, 51.0]}')
    assert leaks(response, "7.5", "51.0") == ["51.0"]
    assert leaks(SimpleNamespace(content=b'{"bbox": [7.5, 50.5]}'), "7.5", "50.5") == ["7.5", "50.5"]


def test_the_public_catalogue_shows_public_sensors_only(open_dataset, public_sensor, police_camera):
    anonymous = APIClient()
    detail = anonymous.get(f"/api/v1/public/datasets/{open_dataset.pk}/")
    assert detail.status_code == 200
    body = detail.json()
    assert body["sensors"] == [public_sensor.pk]
    assert body["spatial_coverage"] == PUBLIC_BOX
    assert leaks(detail) == []
    listing = anonymous.get("/api/v1/public/datasets/")
    (row,) = listing.json()["results"]
    assert row["sensors"] == [public_sensor.pk]
    assert row["spatial_coverage"] == PUBLIC_BOX
    assert leaks(listing) == []


def test_the_dcat_catalogue_has_no_restricted_location(open_dataset):
    response = APIClient().get("/api/v1/public/catalog/")
    assert response.status_code == 200
    (node,) = response.json()["dcat:dataset"]
    assert node["dct:spatial"]["dcat:bbox"]["@value"] == "POLYGON((5.1 52.1,5.1 52.1,5.1 52.1,5.1 52.1,5.1 52.1))"
    assert leaks(response) == []


def test_a_dataset_of_restricted_sensors_only_has_no_public_coverage(city_a, vendor, police_camera):
    from tests.security.conftest import make_dataset

    dataset = make_dataset(city_a, sensors=[police_camera], title="Camera counts")
    body = APIClient().get(f"/api/v1/public/datasets/{dataset.pk}/").json()
    assert (body["sensors"], body["spatial_coverage"]) == ([], None)
    node = APIClient().get("/api/v1/public/catalog/").json()["dcat:dataset"][0]
    assert "dct:spatial" not in node


@pytest.mark.parametrize("role", Role.values)
def test_another_organisation_sees_the_public_part_in_every_role(open_dataset, public_sensor, b_keys, role):
    client = b_keys[role]
    response = client.get(f"/api/v1/datasets/{open_dataset.pk}/")
    assert response.status_code == 200
    assert response.json()["sensors"] == [public_sensor.pk]
    assert response.json()["spatial_coverage"] == PUBLIC_BOX
    assert leaks(response) == []
    listing = client.get("/api/v1/datasets/", {"owner": "stad-a"})
    assert [row["sensors"] for row in listing.json()["results"]] == [[public_sensor.pk]]
    assert leaks(listing) == []


@pytest.mark.parametrize("role", Role.values)
def test_the_owners_members_see_everything(open_dataset, public_sensor, police_camera, a_keys, role):
    body = a_keys[role].get(f"/api/v1/datasets/{open_dataset.pk}/").json()
    assert sorted(body["sensors"]) == sorted([public_sensor.pk, police_camera.pk])
    assert body["spatial_coverage"] == [5.1, 52.1, SECRET_LON, SECRET_LAT]


def test_the_operator_of_the_camera_sees_it_too(open_dataset, police_camera, vendor_keys):
    body = vendor_keys[Role.INTEGRATOR].get(f"/api/v1/datasets/{open_dataset.pk}/").json()
    assert police_camera.pk in body["sensors"]


def test_a_proposed_sensor_is_not_public_either(open_dataset, public_sensor, police_camera):
    public_sensor.status = SensorStatus.PROPOSED
    public_sensor.save()
    body = APIClient().get(f"/api/v1/public/datasets/{open_dataset.pk}/").json()
    assert (body["sensors"], body["spatial_coverage"]) == ([], None)


def test_a_suspended_public_sensor_stays_in_the_register(open_dataset, public_sensor, police_camera):
    # The register shows a confirmed sensor whatever its status today (docs/adr/0006): suspended, or removed.
    public_sensor.status = SensorStatus.SUSPENDED
    public_sensor.save()
    body = APIClient().get(f"/api/v1/public/datasets/{open_dataset.pk}/").json()
    assert body["sensors"] == [public_sensor.pk]


def test_filtering_by_a_restricted_sensor_finds_nothing_outside(
    open_dataset, public_sensor, police_camera, b_keys, a_keys
):
    anonymous = APIClient()
    assert anonymous.get("/api/v1/public/datasets/", {"sensor": police_camera.pk}).json()["count"] == 0
    assert anonymous.get("/api/v1/public/datasets/", {"sensor": public_sensor.pk}).json()["count"] == 1
    stranger = b_keys[Role.ADMIN]
    assert stranger.get("/api/v1/datasets/", {"sensor": police_camera.pk}).json()["count"] == 0
    assert stranger.get("/api/v1/datasets/", {"sensor": public_sensor.pk}).json()["count"] == 1
    assert a_keys[Role.ANALYST].get("/api/v1/datasets/", {"sensor": police_camera.pk}).json()["count"] == 1


def test_the_owners_areas_are_published_with_the_dataset_but_no_other(open_dataset, city_a, b_area):
    # The owner attached its own area to its dataset: that is the owner's choice to publish. An area of
    # another organisation (attached before areas were checked) never shows.
    own = make_area(city_a, "Markt A", 4.0, 51.0)
    open_dataset.areas.set([own, b_area])
    response = APIClient().get(f"/api/v1/public/datasets/{open_dataset.pk}/")
    body = response.json()
    assert body["areas"] == [own.pk]
    assert body["spatial_coverage"] == [4.0, 51.0, 5.1, 52.1]
    assert leaks(response, "7.5", "50.5") == []


def test_the_register_still_counts_the_camera_by_type_and_area(open_dataset, police_camera):
    # What the register promises, and all it says of the camera.
    summary = APIClient().get("/api/v1/public/sensors/restricted/").json()
    assert [(row["sensor_type"], row["count"]) for row in summary] == [("counting-camera", 1)]
    register = APIClient().get("/api/v1/public/sensors/")
    assert police_camera.pk not in [row["id"] for row in register.json()["results"]]
    assert leaks(register) == []
    assert json.dumps(summary).find(SECRET_REFERENCE) == -1


def test_open_aggregates_count_a_restricted_sensor_per_area_only(
    city_a, police, open_dataset, public_sensor, police_camera, a_area, a_keys, keys
):
    # Under an open grant (anyone may read) the figures are public output: the camera is counted in its
    # area, never as a sensor of its own. The owner, and an organisation it granted by name, see it.
    import orjson

    from accounts.selectors import Caller
    from datasets import services as dataset_services
    from purposes.models import AccessLevel, PurposeCategory
    from sensors.models import Placement
    from tests.datasets.conftest import count_record
    from tests.purposes.conftest import assess, grant, make_purpose

    for sensor in (public_sensor, police_camera):
        sensor.area = a_area
        sensor.save()
        Placement.objects.create(sensor=sensor, area=a_area, direction="enters")  # areas count by placement
    records = [count_record(sensor.reference, count_in=20, count_out=15) for sensor in (public_sensor, police_camera)]
    dataset_services.records_ingest(
        caller=Caller(roles={city_a.pk: Role.INTEGRATOR}),
        dataset=open_dataset,
        body=orjson.dumps({"records": records}),
        content_type="application/json",
    )
    research = make_purpose(city_a, "a-open-research", levels=("aggregate",), category=PurposeCategory.RESEARCH)
    open_dataset.collection_purposes.add(research)
    grant(open_dataset, research, None, AccessLevel.AGGREGATE)
    counts = "/api/v1/aggregates/counts/"
    query = {"dataset": open_dataset.pk, "purpose": research.code}

    by_sensor = APIClient().get(counts, {**query, "by": "sensor"})
    assert by_sensor.status_code == 200, by_sensor.content
    assert [row["sensor"] for row in by_sensor.json()["results"]] == [public_sensor.pk]
    by_area = APIClient().get(counts, {**query, "by": "area"}).json()["results"]
    assert [(row["area"], row["count_in"]) for row in by_area] == [(a_area.pk, 40)]

    owner = a_keys[Role.ANALYST].get(counts, {**query, "by": "sensor"}).json()["results"]
    assert sorted(row["sensor"] for row in owner) == sorted([public_sensor.pk, police_camera.pk])

    order = make_purpose(police, "politie-orde", levels=("aggregate",))
    grant(open_dataset, order, police, AccessLevel.AGGREGATE, assessment=assess(open_dataset, order))
    named = keys(police)[Role.ANALYST].get(counts, {"dataset": open_dataset.pk, "purpose": order.code, "by": "sensor"})
    assert named.status_code == 200, named.content
    assert sorted(row["sensor"] for row in named.json()["results"]) == sorted([public_sensor.pk, police_camera.pk])
