"""Areas: polygons are bounded and must enclose a real surface; lists leave the geometry out unless
asked; a DELETE answers 204 in any representation."""

import math

import pytest

from sensors.geometry import MAX_POLYGON_POSITIONS
from sensors.models import Area
from tests.robustness.conftest import SQUARE, assert_problem, pointers

pytestmark = pytest.mark.django_db


def polygon(ring):
    return {"type": "Polygon", "coordinates": [ring]}


def circle(n: int, lon=5.0, lat=52.0, radius=0.01):
    ring = [
        [lon + radius * math.cos(2 * math.pi * i / n), lat + radius * math.sin(2 * math.pi * i / n)] for i in range(n)
    ]
    return polygon([*ring, ring[0]])


def post_area(client, geometry, name="Plein"):
    return client.post("/api/v1/areas/", {"name": name, "area_type": "square", "geometry": geometry}, format="json")


@pytest.mark.parametrize("junk", ["x", None, [1], {"a": 1}, True])
def test_a_junk_third_coordinate_points_at_the_position(steward, junk):
    ring = [list(position) for position in SQUARE["coordinates"][0]]
    ring[2] = [*ring[2], junk]
    body = assert_problem(post_area(steward, polygon(ring)), 422)
    assert pointers(body) == {"/geometry"}
    assert body["errors"][0]["detail"].endswith("(at /geometry/coordinates/0/2)")


def test_a_numeric_third_coordinate_is_an_altitude(steward):
    ring = [[*position, 12.5] for position in SQUARE["coordinates"][0]]
    response = post_area(steward, polygon(ring))
    assert response.status_code == 201, response.content


def test_more_than_the_maximum_positions_is_refused(steward):
    body = assert_problem(post_area(steward, circle(MAX_POLYGON_POSITIONS + 10)), 422)
    assert pointers(body) == {"/geometry"}
    assert str(MAX_POLYGON_POSITIONS) in body["errors"][0]["detail"]
    assert not Area.objects.exists()


def test_the_maximum_positions_is_accepted(steward):
    response = post_area(steward, circle(MAX_POLYGON_POSITIONS - 1))
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "ring,reason",
    [
        ([[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]], "pole"),  # the whole world
        ([[-179, -80], [179, -80], [179, 80], [-179, 80], [-179, -80]], "180 degrees"),  # ambiguous (RFC 7946)
        ([[0, 0], [1e-12, 0], [1e-12, 1e-12], [0, 1e-12], [0, 0]], "no surface"),
        ([[0, 89], [90, 90], [100, 89], [0, 89]], "pole"),
    ],
)
def test_degenerate_surfaces_are_refused_with_a_reason(steward, ring, reason):
    body = assert_problem(post_area(steward, polygon(ring)), 422)
    assert pointers(body) == {"/geometry"}
    assert reason in body["errors"][0]["detail"]
    assert not Area.objects.exists()


def test_areas_are_listed_without_their_geometry_unless_asked(steward, area):
    listed = steward.get("/api/v1/areas/").json()["results"]
    assert "geometry" not in listed[0]
    assert listed[0]["bbox"] == [5.0, 52.0, 5.001, 52.001]
    asked = steward.get("/api/v1/areas/", {"geometry": "true"}).json()["results"]
    assert asked[0]["geometry"] == SQUARE
    assert steward.get(f"/api/v1/areas/{area['id']}/").json()["geometry"] == SQUARE
    features = steward.get("/api/v1/areas/", {"format": "geojson"}).json()["features"]
    assert features[0]["geometry"] == SQUARE
    problem = assert_problem(steward.get("/api/v1/areas/", {"geometry": "maybe"}), 422)
    assert pointers(problem) == {"/geometry"}


def test_deleting_an_area_as_geojson_answers_204(steward, area):
    response = steward.delete(f"/api/v1/areas/{area['id']}/?format=geojson")
    assert response.status_code == 204, response.content
    assert not Area.objects.exists()
    assert_problem(steward.delete(f"/api/v1/areas/{area['id']}/?format=geojson"), 404)
