"""Where a sensor stood over time: placements kept up by registration, updates and moves, corrected whole
by the controller, public for the register's sensors, and proposed from an area's polygon (issue 10)."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import OrganisationKind, Role
from sensors.models import Placement, Sensor, SensorEvent
from sensors.placements import Span, changed_span, check_placements
from sensors.signals import placements_changed
from tests.factories import OrganisationFactory
from tests.sensors.conftest import SQUARE

pytestmark = pytest.mark.django_db
SENSORS = "/api/v1/sensors/"
AREAS = "/api/v1/areas/"


def t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@contextmanager
def heard():
    """The placements_changed signals sent inside the block: [(sensor_id, start, end)]."""
    spans = []

    def receiver(sender, sensor_id, start, end, **kwargs):
        spans.append((sensor_id, start, end))

    placements_changed.connect(receiver)
    try:
        yield spans
    finally:
        placements_changed.disconnect(receiver)


@pytest.fixture
def register(steward_client, sensor_payload, city):
    """register(**changes) -> a sensor (JSON) the city registers itself, as its own operator (so it may name
    its areas)."""

    def make(**changes):
        response = steward_client.post(SENSORS, {**sensor_payload, "operator": city.slug, **changes}, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return make


@pytest.fixture
def integrator_client(city, key_client):
    return key_client(city, Role.INTEGRATOR)


@pytest.fixture
def second_area(steward_client):
    shifted = {"type": "Polygon", "coordinates": [[[x + 0.01, y] for x, y in SQUARE["coordinates"][0]]]}
    response = steward_client.post(AREAS, {"name": "Markt", "area_type": "square", "geometry": shifted})
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def placed(register, steward_client, area):
    """A confirmed line counter installed 2019-09-25, standing in `area` since then: its URL."""
    sensor = register(installed_at="2019-09-25", area=area["id"])
    assert steward_client.post(f"{SENSORS}{sensor['id']}/confirm/").status_code == 200
    return f"{SENSORS}{sensor['id']}/"


def test_a_sensor_registered_in_an_area_stands_there_from_its_installation(register, area, steward_client):
    with heard() as spans:
        sensor = register(installed_at="2019-09-25", area=area["id"])
    rows = steward_client.get(f"{SENSORS}{sensor['id']}/placements/").json()
    assert rows == [
        {
            "area": area["id"],
            "area_name": "Plein",
            "direction": "enters",  # a line counter's `in` enters the area
            "starts_at": "2019-09-25T00:00:00Z",
            "ends_at": None,
        }
    ]
    assert spans == [(sensor["id"], t("2019-09-25T00:00:00Z"), None)]
    registered = SensorEvent.objects.get(action="registered")
    assert registered.changes["placements"][1][0]["area"] == area["id"]
    # Not in an area: no placement.
    assert not Placement.objects.filter(sensor_id=register(reference="cam-002")["id"]).exists()


def test_while_proposed_a_new_area_corrects_the_placement(register, area, second_area, integrator_client):
    sensor = register(installed_at="2019-09-25", area=area["id"])
    response = integrator_client.patch(f"{SENSORS}{sensor['id']}/", {"area": second_area["id"]}, format="json")
    assert response.status_code == 200, response.content
    assert list(Placement.objects.values_list("area_id", "starts_at", "ends_at")) == [
        (second_area["id"], t("2019-09-25T00:00:00Z"), None)
    ]


def test_a_new_area_of_a_confirmed_sensor_is_a_move_now_with_history(placed, steward_client, second_area, area):
    before = timezone.now()
    with heard() as spans:
        response = steward_client.patch(placed, {"area": second_area["id"]}, format="json")
    assert response.status_code == 200, response.content
    old, new = Placement.objects.order_by("starts_at")
    assert (old.area_id, old.starts_at, new.area_id, new.ends_at) == (
        area["id"],
        t("2019-09-25T00:00:00Z"),
        second_area["id"],
        None,
    )
    assert old.ends_at == new.starts_at and before <= new.starts_at <= timezone.now()
    assert Sensor.objects.get().area_id == second_area["id"]
    assert spans == [(new.sensor_id, new.starts_at, None)]
    change = SensorEvent.objects.filter(action="updated").get().changes
    assert change["area"] == [area["id"], second_area["id"]]
    # The history keeps moments to the millisecond (DjangoJSONEncoder).
    assert [p["ends_at"] and t(p["ends_at"]) for p in change["placements"][1]] == [
        new.starts_at.replace(microsecond=new.starts_at.microsecond // 1000 * 1000),
        None,
    ]


def test_the_controller_records_a_move_at_a_past_moment(placed, steward_client, second_area, area, integrator_client):
    move = {"area": second_area["id"], "at": "2021-03-01T06:00:00+01:00", "direction": "leaves", "note": "works"}
    refused = integrator_client.post(f"{placed}move/", move, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "not_the_controller")
    with heard() as spans:
        response = steward_client.post(f"{placed}move/", move, format="json")
    assert response.status_code == 200, response.content
    assert [(p["area"], p["direction"], p["starts_at"], p["ends_at"]) for p in response.json()] == [
        (area["id"], "enters", "2019-09-25T00:00:00Z", "2021-03-01T05:00:00Z"),
        (second_area["id"], "leaves", "2021-03-01T05:00:00Z", None),
    ]
    assert spans == [(Sensor.objects.get().pk, t("2021-03-01T05:00:00Z"), None)]
    assert SensorEvent.objects.get(action="updated").note == "works"
    # Any member reads where its sensor stood; out of every area, it keeps its location.
    assert integrator_client.get(f"{placed}placements/").json() == response.json()
    response = steward_client.post(f"{placed}move/", {"area": None, "at": "2022-01-01"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()[-1]["ends_at"] == "2022-01-01T00:00:00Z"
    assert Sensor.objects.get().area_id is None


@pytest.mark.parametrize(
    ("move", "pointer", "words"),
    [
        ({"at": "2019-09-25"}, "/at", "after the sensor's last placement moment"),
        ({"at": "2019-01-01"}, "/at", "after the sensor's last placement moment"),
        ({"at": "2999-01-01"}, "/at", "future"),
        ({"direction": "sideways"}, "/direction", "valid choice"),
        ({"area": 10**12}, "/area", ""),
        ({"area": "x"}, "/area", ""),
    ],
)
def test_a_move_that_cannot_be_is_refused_with_a_pointer(placed, steward_client, second_area, move, pointer, words):
    response = steward_client.post(f"{placed}move/", {"area": second_area["id"], **move}, format="json")
    assert response.status_code in (400, 422), response.content
    assert response["Content-Type"] == "application/problem+json"
    error = response.json()["errors"][0]
    assert error["pointer"] == pointer and words in error["detail"]
    assert Placement.objects.count() == 1


def test_an_area_of_another_controller_is_refused(placed, steward_client, key_client, sensor_payload):
    other = OrganisationFactory(kind=OrganisationKind.MUNICIPALITY, slug="elders")
    other_client = key_client(other, Role.DATA_STEWARD)
    theirs = other_client.post(AREAS, {"name": "Elders", "area_type": "square", "geometry": SQUARE}).json()
    # Private to the other city: no such area, as if it did not exist.
    response = steward_client.post(f"{placed}move/", {"area": theirs["id"]}, format="json")
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/area"
    # Named by the public register (a confirmed sensor of theirs stands there): not the controller's.
    mine = {"reference": "x-1", "controller": "elders", "operator": "elders", "area": theirs["id"]}
    other_sensor = other_client.post(SENSORS, {**sensor_payload, **mine}, format="json").json()
    assert other_client.post(f"{SENSORS}{other_sensor['id']}/confirm/").status_code == 200
    response = steward_client.post(f"{placed}move/", {"area": theirs["id"]}, format="json")
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0] == {
        "pointer": "/area",
        "detail": "The area must belong to the sensor's controller.",
        "code": "invalid",
    }


def test_the_controller_corrects_the_whole_history(placed, steward_client, area, second_area):
    history = {
        "placements": [
            {"area": second_area["id"], "starts_at": "2021-01-01", "direction": "inside"},
            {"area": area["id"], "starts_at": "2019-09-25", "ends_at": "2021-01-01"},
        ],
        "note": "It stood at the Markt from 2021",
    }
    with heard() as spans:
        response = steward_client.put(f"{placed}placements/", history, format="json")
    assert response.status_code == 200, response.content
    assert [(p["area_name"], p["direction"], p["starts_at"], p["ends_at"]) for p in response.json()] == [
        ("Plein", "enters", "2019-09-25T00:00:00Z", "2021-01-01T00:00:00Z"),
        ("Markt", "inside", "2021-01-01T00:00:00Z", None),
    ]
    # Only the time whose attribution changed: from the Markt's start, open-ended.
    assert spans == [(Sensor.objects.get().pk, t("2021-01-01T00:00:00Z"), None)]
    assert Sensor.objects.get().area_id == second_area["id"]
    event = SensorEvent.objects.get(action="updated")
    assert (event.note, event.changes["area"]) == (history["note"], [area["id"], second_area["id"]])
    # The same again changes nothing and writes no history.
    with heard() as spans:
        assert steward_client.put(f"{placed}placements/", history, format="json").status_code == 200
    assert spans == [] and SensorEvent.objects.filter(action="updated").count() == 1


@pytest.mark.parametrize(
    ("placements", "pointer", "words"),
    [
        (
            [{"starts_at": "2020-01-01", "ends_at": "2021-01-01"}, {"starts_at": "2020-06-01"}],
            "/placements/1/starts_at",
            "Overlaps placement 0",
        ),
        ([{"starts_at": "2021-01-01", "ends_at": "2020-01-01"}], "/placements/0/ends_at", "after starts_at"),
        ([{"starts_at": "2020-01-01"}, {"starts_at": "2021-01-01"}], "/placements/0/ends_at", "Only the last"),
        ([{"starts_at": None, "ends_at": "2020-01-01"}, {"starts_at": None}], "/placements/1/starts_at", "no start"),
        ([{"starts_at": "2999-01-01"}], "/placements/0/starts_at", "future"),
        ([{"direction": "up"}], "/placements/0/direction", "valid choice"),
        ([{"area": None}], "/placements/0/area", "null"),
        ([{"area": 10**12}], "/placements/0/area", ""),
        ("nope", "/placements", ""),
    ],
)
def test_a_history_that_cannot_be_is_refused_with_a_pointer(placed, steward_client, area, placements, pointer, words):
    if isinstance(placements, list):
        placements = [{"area": area["id"], **p} for p in placements]
    response = steward_client.put(f"{placed}placements/", {"placements": placements}, format="json")
    assert response.status_code in (400, 422), response.content
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert any(e["pointer"] == pointer and words in e["detail"] for e in errors), errors
    assert Placement.objects.get().ends_at is None


def test_a_sensor_without_a_location_keeps_an_open_placement(register, steward_client, area):
    sensor = register(location=None, area=area["id"])
    url = f"{SENSORS}{sensor['id']}/"
    assert steward_client.post(f"{url}confirm/").status_code == 200
    response = steward_client.put(f"{url}placements/", {"placements": []}, format="json")
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/placements"
    response = steward_client.post(f"{url}move/", {"area": None}, format="json")
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/area"
    assert Sensor.objects.get().area_id == area["id"]


def test_a_proposed_sensor_is_not_moved_or_corrected(register, steward_client, area):
    url = f"{SENSORS}{register(area=area['id'])['id']}/"
    assert steward_client.post(f"{url}move/", {"area": None}, format="json").status_code == 409
    assert steward_client.put(f"{url}placements/", {"placements": []}, format="json").status_code == 409


def test_a_corrected_installation_moves_the_first_placement_with_it(placed, steward_client):
    life = {"installed_at": "2019-06-01", "suspensions": []}
    with heard() as spans:
        assert steward_client.put(f"{placed}service-life/", life, format="json").status_code == 200
    assert Placement.objects.get().starts_at == t("2019-06-01T00:00:00Z")
    assert spans == [(Sensor.objects.get().pk, t("2019-06-01T00:00:00Z"), t("2019-09-25T00:00:00Z"))]
    assert steward_client.patch(placed, {"installed_at": "2019-07-01"}, format="json").status_code == 200
    assert Placement.objects.get().starts_at == t("2019-07-01T00:00:00Z")


def test_the_register_shows_where_a_public_sensor_stood_and_not_a_restricted_one(
    placed, steward_client, register, area
):
    public = APIClient()
    response = public.get(f"/api/v1/public/sensors/{Sensor.objects.get().pk}/placements/")
    assert response.status_code == 200, response.content
    assert [p["area_name"] for p in response.json()] == ["Plein"]
    hidden = register(
        reference="cam-009", area=area["id"], visibility="restricted", restriction_reason="police modus operandi"
    )
    assert steward_client.post(f"{SENSORS}{hidden['id']}/confirm/").status_code == 200
    assert public.get(f"/api/v1/public/sensors/{hidden['id']}/placements/").status_code == 404


# An area with a hole: the Plein's square with its middle cut out.
HOLED = {
    "type": "Polygon",
    "coordinates": [
        SQUARE["coordinates"][0],
        [[5.0004, 52.0004], [5.0004, 52.0006], [5.0006, 52.0006], [5.0006, 52.0004], [5.0004, 52.0004]],
    ],
}


def test_an_area_proposes_the_sensors_inside_its_polygon(register, steward_client, second_area, key_client):
    ring = steward_client.post(AREAS, {"name": "Ring", "area_type": "square", "geometry": HOLED}).json()
    url = f"{AREAS}{ring['id']}/sensors-inside/"
    inside = register(reference="in", location={"type": "Point", "coordinates": [5.0001, 52.0001]})
    register(reference="edge", location={"type": "Point", "coordinates": [5.0, 52.0005]})
    register(reference="hole", location={"type": "Point", "coordinates": [5.0005, 52.0005]})
    register(reference="out", location={"type": "Point", "coordinates": [5.002, 52.0005]})
    elsewhere = register(
        reference="markt", location={"type": "Point", "coordinates": [5.0009, 52.0009]}, area=second_area["id"]
    )
    for sensor in (inside, elsewhere):
        assert steward_client.post(f"{SENSORS}{sensor['id']}/confirm/").status_code == 200
    response = steward_client.get(url)
    assert response.status_code == 200, response.content
    assert {row["reference"]: row["placed"] for row in response.json()} == {
        "in": "nowhere",
        "edge": "nowhere",
        "markt": "elsewhere",
    }
    # Placing them: the confirmed ones move at `at`, the proposed one stands there from its installation.
    response = steward_client.post(f"{url}place/", {"at": "2025-06-01T00:00:00Z"}, format="json")
    assert response.status_code == 200, response.content
    assert {row["reference"]: (row["placed"], row["placed_since"]) for row in response.json()} == {
        "in": ("here", "2025-06-01T00:00:00Z"),
        "edge": ("here", "2025-01-01T00:00:00Z"),
        "markt": ("here", "2025-06-01T00:00:00Z"),
    }
    markt = Placement.objects.filter(sensor_id=elsewhere["id"]).order_by("starts_at")
    assert [(p.area_id, p.ends_at) for p in markt] == [
        (second_area["id"], t("2025-06-01T00:00:00Z")),
        (ring["id"], None),
    ]
    # One never placed stands there since its installation when no moment is given.
    late = register(reference="late", location={"type": "Point", "coordinates": [5.0002, 52.0001]})
    assert steward_client.post(f"{SENSORS}{late['id']}/confirm/").status_code == 200
    response = steward_client.post(f"{url}place/", {"sensors": [late["id"]]}, format="json")
    assert response.status_code == 200, response.content
    assert [p.starts_at for p in Placement.objects.filter(sensor_id=late["id"])] == [t("2025-01-01T00:00:00Z")]
    # Only sensors inside may be named; another city sees no such area.
    response = steward_client.post(f"{url}place/", {"sensors": [inside["id"], 10**9]}, format="json")
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/sensors/1"
    stranger = key_client(OrganisationFactory(kind=OrganisationKind.MUNICIPALITY), Role.DATA_STEWARD)
    assert stranger.get(url).status_code == 404


def test_changed_span_is_the_time_whose_attribution_differs():
    a, b = 1, 2
    jan, feb, mar = (datetime(2024, m, 1, tzinfo=UTC) for m in (1, 2, 3))
    before = [Span(a, "enters", None, feb), Span(b, "enters", feb, None)]
    assert changed_span(before, before) is None
    assert changed_span(before, [Span(a, "enters", None, mar), Span(b, "enters", mar, None)]) == (feb, mar)
    assert changed_span(before, [Span(a, "enters", jan, feb), Span(b, "enters", feb, None)]) == (None, jan)
    assert changed_span(before, [Span(a, "enters", None, feb), Span(b, "leaves", feb, None)]) == (feb, None)
    assert changed_span([], [Span(a, "inside", jan, None)]) == (jan, None)
    # The same attribution in two pieces is no change for the records.
    assert changed_span(before, [Span(a, "enters", None, jan), Span(a, "enters", jan, feb), before[1]]) is None
    assert check_placements([Span(a, "enters", jan, feb), Span(b, "enters", feb, None)]) == {}
    late = jan + timedelta(days=40)
    assert "placements/1/starts_at" in check_placements([Span(a, "enters", jan, late), Span(b, "enters", feb)])


def test_an_import_places_sensors_by_area_name_and_moves_them_when_it_changes(steward_client, area, second_area):
    url = "/api/v1/sensors/import/?mapping=platform&controller=testdorp&sensor_type=lidar-counter"

    def post(text):
        return steward_client.generic("POST", url, text.encode(), content_type="text/csv")

    header = "reference,name,latitude,longitude,measures,installed_at,area\n"
    assert post(header + "g1,Gate,52.0005,5.0005,count_at_line,2020-01-01,Plein\n").status_code == 201
    sensor = Sensor.objects.get()
    assert (sensor.area_id, sensor.status) == (area["id"], "active")
    assert list(Placement.objects.values_list("area_id", "starts_at", "ends_at")) == [
        (area["id"], t("2020-01-01T00:00:00Z"), None)
    ]
    assert post(header + "g1,Gate,52.0005,5.0005,count_at_line,2020-01-01,Plein\n").json()["unchanged"] == 1
    with heard() as spans:
        assert post(header + "g1,Gate,52.0005,5.0005,count_at_line,2020-01-01,Markt\n").json()["updated"] == 1
    old, new = Placement.objects.order_by("starts_at")
    assert (old.area_id, old.ends_at, new.area_id, new.ends_at) == (area["id"], new.starts_at, second_area["id"], None)
    assert spans == [(sensor.pk, new.starts_at, None)]
    assert SensorEvent.objects.filter(action="imported").last().changes["area"] == [area["id"], second_area["id"]]
    refused = post(header + "g1,Gate,52.0005,5.0005,count_at_line,2020-01-01,Nowhere\n")
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "/2/area"
