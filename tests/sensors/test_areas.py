"""Areas: validated polygons, geodesic surface, thresholds, GeoJSON, and owner scoping."""

import math

import pytest

from accounts.models import OrganisationKind, Role
from sensors.models import Area
from tests.api.endpoint_checks import ScopedEndpointChecks
from tests.sensors.conftest import SQUARE

pytestmark = pytest.mark.django_db
AREAS = "/api/v1/areas/"


def spherical_rectangle_m2(west, south, east, north, radius=6_371_008.8):
    """Independent check: the area of a lon/lat rectangle on a sphere of the mean Earth radius."""
    return radius**2 * math.radians(east - west) * abs(math.sin(math.radians(north)) - math.sin(math.radians(south)))


def test_the_surface_is_computed_geodesically(area):
    expected = spherical_rectangle_m2(5.0, 52.0, 5.001, 52.001)
    assert area["surface_m2_computed"] == pytest.approx(expected, rel=0.005)
    assert area["surface_m2"] == area["surface_m2_computed"]


def test_the_usable_surface_can_be_overridden(area, steward_client):
    response = steward_client.patch(f"{AREAS}{area['id']}/", {"surface_m2_override": 2500})
    assert response.status_code == 200
    assert response.json()["surface_m2"] == 2500
    assert response.json()["surface_m2_computed"] == area["surface_m2_computed"]


def test_changing_the_polygon_recomputes_the_surface(area, steward_client):
    bigger = {
        "type": "Polygon",
        "coordinates": [[[5.0, 52.0], [5.002, 52.0], [5.002, 52.001], [5.0, 52.001], [5.0, 52.0]]],
    }
    response = steward_client.patch(f"{AREAS}{area['id']}/", {"geometry": bigger})
    assert response.status_code == 200
    assert response.json()["surface_m2_computed"] == pytest.approx(2 * area["surface_m2_computed"], rel=0.001)


@pytest.mark.parametrize(
    ("geometry", "words"),
    [
        ({"type": "Point", "coordinates": [5.0, 52.0]}, "Polygon"),
        ({"type": "Polygon", "coordinates": [[[5.0, 52.0], [5.001, 52.0], [5.001, 52.001], [5.0, 52.001]]]}, "closed"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[5.0, 52.0], [5.001, 52.001], [5.001, 52.0], [5.0, 52.001], [5.0, 52.0]]],
            },
            "Self-intersection",
        ),
        ({"type": "Polygon", "coordinates": [[[5.0, 52.0], [5.0, 95.0], [6.0, 52.0], [5.0, 52.0]]]}, "Latitude 95"),
        ({"type": "Polygon", "coordinates": [[[5.0, 52.0], [5.0, 52.0], [5.0, 52.0], [5.0, 52.0]]]}, "valid"),
    ],
)
def test_invalid_polygons_are_refused_with_a_pointer(steward_client, area_payload, geometry, words):
    response = steward_client.post(AREAS, {**area_payload, "geometry": geometry})
    assert response.status_code == 422, response.content
    error = response.json()["errors"][0]
    assert error["pointer"] == "/geometry"
    assert words.lower() in error["detail"].lower()
    assert not Area.objects.exists()


def test_thresholds_must_rise(steward_client, area_payload):
    response = steward_client.post(
        AREAS, {**area_payload, "thresholds": {"default": {"busy": 3, "crowded": 2}, "weekly": [{"weekday": 9}]}}
    )
    assert response.status_code == 422
    pointers = {error["pointer"] for error in response.json()["errors"]}
    assert "/thresholds/default" in pointers
    assert "/thresholds/weekly/0/weekday" in pointers
    assert not Area.objects.exists()


def test_thresholds_per_weekday_and_hour_are_kept(steward_client, area_payload):
    thresholds = {
        "default": {"busy": 1.0, "crowded": 2.0, "critical": 3.5},
        "weekly": [{"weekday": 5, "hour": 23, "busy": 1.5, "crowded": 2.5}],
    }
    response = steward_client.post(AREAS, {**area_payload, "thresholds": thresholds})
    assert response.status_code == 201
    assert response.json()["thresholds"] == thresholds


def test_areas_are_owned_by_municipalities(vendor, key_client, area_payload):
    response = key_client(vendor, Role.ADMIN).post(AREAS, {**area_payload, "owner": vendor.slug})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/owner"


def test_a_duplicate_name_is_a_conflict(area, steward_client, area_payload):
    response = steward_client.post(AREAS, area_payload)
    assert response.status_code == 409
    assert response.json()["errors"][0]["pointer"] == "/name"


def test_geojson_output(area, steward_client):
    response = steward_client.get(AREAS, HTTP_ACCEPT="application/geo+json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    feature = body["features"][0]
    assert feature["geometry"] == SQUARE
    assert feature["properties"]["name"] == "Plein"
    assert "geometry" not in feature["properties"]


def test_an_area_in_use_cannot_be_deleted(area, register, steward_client):
    sensor = register()
    assert steward_client.patch(f"/api/v1/sensors/{sensor['id']}/", {"area": area["id"]}).status_code == 200
    response = steward_client.delete(f"{AREAS}{area['id']}/")
    assert response.status_code == 409
    assert response.json()["code"] == "area_in_use"
    assert Area.objects.filter(pk=area["id"]).exists()


class TestAreaEndpoint(ScopedEndpointChecks):
    list_url = AREAS
    lookup_field = "pk"
    role = Role.DATA_STEWARD
    update_payload = {"name": "Taken over"}

    def make_object(self, organisation):
        organisation.kind = OrganisationKind.MUNICIPALITY
        organisation.save()
        return Area.objects.create(
            owner=organisation,
            name="Somewhere",
            area_type="square",
            geometry=SQUARE,
            surface_m2_computed=7000,
            min_lon=5.0,
            min_lat=52.0,
            max_lon=5.001,
            max_lat=52.001,
        )

    def test_the_list_holds_only_the_callers_rows(self, setting):
        client, own, theirs = setting
        ids = {row["id"] for row in client.get(self.list_url).json()["results"]}
        assert own.pk in ids and theirs.pk not in ids
