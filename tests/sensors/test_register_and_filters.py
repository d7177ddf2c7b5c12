"""The public register (no login), the sensor filters, and the GeoJSON and CSV representations."""

import csv
import io

import pytest

from sensors.models import Sensor

pytestmark = pytest.mark.django_db
PUBLIC = "/api/v1/public/sensors/"
SENSORS = "/api/v1/sensors/"


@pytest.fixture
def fleet(register, steward_client, area):
    """Four sensors: active public, active restricted (in the area), proposed, and removed."""

    def confirm(sensor):
        assert steward_client.post(f"{SENSORS}{sensor['id']}/confirm/").status_code == 200
        return sensor

    public = confirm(register(reference="pub", name="Public one", personal_data_at_edge=True))
    restricted = register(
        reference="res",
        name="Secret one",
        sensor_type="counting-camera",
        visibility="restricted",
        restriction_reason="Police modus operandi",
    )
    # The city's private area: the city places the sensor in it (a vendor may name only areas it sees).
    assert steward_client.patch(f"{SENSORS}{restricted['id']}/", {"area": area["id"]}).status_code == 200
    restricted = confirm(restricted)
    proposed = register(reference="prop", name="Proposed one", location={"type": "Point", "coordinates": [4.0, 51.0]})
    removed = confirm(register(reference="rem", name="Removed one"))
    steward_client.post(f"{SENSORS}{removed['id']}/remove/")
    return {"public": public, "restricted": restricted, "proposed": proposed, "removed": removed}


@pytest.mark.smoke
def test_the_register_shows_confirmed_public_sensors_without_login(api_client, fleet, city, vendor):
    response = api_client.get(PUBLIC)
    assert response.status_code == 200
    rows = response.json()["results"]
    # A removed sensor stays in the register, as removed, with its service life.
    assert [(row["name"], row["status"]) for row in rows] == [("Public one", "active"), ("Removed one", "removed")]
    assert rows[1]["removed_at"] is not None and rows[0]["removed_at"] is None
    assert rows[1]["installed_at"] == "2025-01-01T00:00:00Z"
    row = rows[0]
    assert row["controller"] == {"slug": city.slug, "name": city.name}
    assert row["operator"]["slug"] == vendor.slug
    assert row["sensor_type"]["explanation_nl"]
    assert row["personal_data_at_edge"] is True
    assert row["purposes"] == []
    for hidden in ("restricted", "proposed"):
        assert api_client.get(f"{PUBLIC}{fleet[hidden]['id']}/").status_code == 404


def test_restricted_sensors_appear_only_as_counts(api_client, fleet, area):
    response = api_client.get(f"{PUBLIC}restricted/")
    assert response.status_code == 200
    assert response.json() == [
        {
            "sensor_type": "counting-camera",
            "sensor_type_name_en": "Counting camera",
            "sensor_type_name_nl": "Telcamera",
            "area": area["id"],
            "area_name": "Plein",
            "count": 1,
        }
    ]
    assert "Secret one" not in response.content.decode()


def test_the_register_as_geojson(api_client, fleet):
    for response in (
        api_client.get(PUBLIC, {"format": "geojson"}),
        api_client.get(PUBLIC, HTTP_ACCEPT="application/geo+json"),
    ):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/geo+json"
        body = response.json()
        assert body["type"] == "FeatureCollection"
        assert [f["geometry"] for f in body["features"]] == [{"type": "Point", "coordinates": [5.0005, 52.0005]}] * 2
        assert [f["properties"]["status"] for f in body["features"]] == ["active", "removed"]


def test_the_sensor_list_as_csv(steward_client, fleet):
    response = steward_client.get(SENSORS, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(response.content.decode()))
    assert reader.fieldnames[:4] == ["id", "reference", "name", "description"]  # the serializer's order
    rows = list(reader)
    assert {row["reference"] for row in rows} == {"pub", "res", "prop", "rem"}
    by_reference = {row["reference"]: row for row in rows}
    assert by_reference["pub"]["latitude"] == "52.0005"
    assert by_reference["pub"]["measures"] == "count_at_line"
    assert not any(key.startswith("location") for key in rows[0])


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_filters(steward_client, fleet, area):
    f = fleet
    assert ids(steward_client.get(SENSORS, {"status": "active"})) == {f["public"]["id"], f["restricted"]["id"]}
    assert ids(steward_client.get(SENSORS, {"type": "counting-camera"})) == {f["restricted"]["id"]}
    assert ids(steward_client.get(SENSORS, {"personal_data": "true"})) == {f["public"]["id"]}
    assert ids(steward_client.get(SENSORS, {"area": area["id"]})) == {f["restricted"]["id"]}
    assert ids(steward_client.get(SENSORS, {"bbox": "3.9,50.9,4.1,51.1"})) == {f["proposed"]["id"]}
    assert ids(steward_client.get(SENSORS, {"visibility": "restricted"})) == {f["restricted"]["id"]}
    response = steward_client.get(SENSORS, {"bbox": "5,52"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/bbox"
    assert response["Content-Type"] == "application/problem+json"


def test_active_at_honours_installation_and_event_periods(register, steward_client):
    always = register(reference="always", installed_at="2025-01-01")
    festival = register(
        reference="festival",
        installed_at=None,
        active_periods=[{"starts_at": "2026-06-26T10:00:00Z", "ends_at": "2026-06-28T22:00:00Z", "label": "Festival"}],
    )
    ended = register(reference="ended", installed_at="2024-01-01")
    for sensor in (always, festival, ended):
        steward_client.post(f"{SENSORS}{sensor['id']}/confirm/")
    assert steward_client.post(f"{SENSORS}{ended['id']}/remove/", {"at": "2026-01-01"}).status_code == 200
    assert ids(steward_client.get(SENSORS, {"active_at": "2026-06-27T12:00:00Z"})) == {always["id"], festival["id"]}
    assert ids(steward_client.get(SENSORS, {"active_at": "2026-07-01T12:00:00Z"})) == {always["id"]}
    assert ids(steward_client.get(SENSORS, {"active_at": "2025-06-01T12:00:00Z"})) == {always["id"], ended["id"]}
    # Half-open: in service up to, not at, the removal and the end of an active period; from the installation.
    assert ids(steward_client.get(SENSORS, {"active_at": "2025-12-31T23:59:59Z"})) == {always["id"], ended["id"]}
    assert ids(steward_client.get(SENSORS, {"active_at": "2026-01-01T00:00:00Z"})) == {always["id"]}
    assert ids(steward_client.get(SENSORS, {"active_at": "2026-06-28T21:59:59Z"})) == {always["id"], festival["id"]}
    assert ids(steward_client.get(SENSORS, {"active_at": "2026-06-28T22:00:00Z"})) == {always["id"]}
    assert ids(steward_client.get(SENSORS, {"active_at": "2025-01-01T00:00:00Z"})) == {always["id"], ended["id"]}
    assert ids(steward_client.get(SENSORS, {"active_at": "2024-12-31T23:59:59Z"})) == {ended["id"]}


def test_the_sensor_list_pages_by_cursor(register, steward_client):
    for n in range(5):
        register(reference=f"s{n}")
    first = steward_client.get(SENSORS, {"page_size": 2}).json()
    assert len(first["results"]) == 2 and "cursor=" in first["next"]
    second = steward_client.get(first["next"]).json()
    assert {r["id"] for r in first["results"]}.isdisjoint({r["id"] for r in second["results"]})
    assert Sensor.objects.count() == 5


def test_the_register_page_shows_a_removed_sensor_as_removed(client, fleet, steward_client):
    removed = fleet["removed"]
    life = {"installed_at": "2019-09-25", "removed_at": "2020-03-01T00:00:00Z", "suspensions": []}
    assert steward_client.put(f"{SENSORS}{removed['id']}/service-life/", life, format="json").status_code == 200
    page = client.get(f"/register/sensors/{removed['id']}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Removed on 2020-03-01." in html and "Installed on 2019-09-25." in html
    listing = client.get("/register/").content.decode()
    assert "Removed one" in listing and "Removed (2020-03-01)" in listing
    assert client.get(f"/register/sensors/{fleet['proposed']['id']}/").status_code == 404
