"""The register's map in a real browser: clusters, fit to the filters, the Natural Earth fallback when no tiles
load, map and list in step, keyboard use, and the filter form without JavaScript.

The machine has no outside network: OpenStreetMap's tiles (the default) fail here as they would offline; tests
that need tiles serve a PNG with Playwright's page.route. Screenshots go to $TEST_ARTEFACTS."""

import os
import struct
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from sensors import selectors
from tests.e2e.conftest import browser_page

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.browser]

PROJECT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("TEST_ARTEFACTS") or PROJECT / "test-artefacts")
VIEWPORT = {"width": 1200, "height": 900}
OSM_TILES = "https://tile.openstreetmap.org/**"
CLOSE_UP, CLOSE_UP_ON_LAND = 16, 8  # web/map.js: one place seen close up, on tiles and on Natural Earth land


def png_tile() -> bytes:
    """A 256×256 PNG of one pale green, made here (zlib + struct), to stand in for a map tile."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xcc\xe5\xcc" * 256 for _ in range(256))
    header = struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def located(queryset=None):
    queryset = selectors.register_sensors() if queryset is None else queryset
    return list(queryset.filter(latitude__isnull=False).values_list("pk", "latitude", "longitude"))


def wait_for_markers(page, count: int):
    expect(page.locator("#register-map")).to_have_attribute("data-markers", str(count), timeout=15_000)


def shown(page) -> dict:
    """What the map shows: the clusters' numbers, the single markers, and the view."""
    return page.locator("#register-map").evaluate(
        """map => ({
            clusters: [...map.querySelectorAll('.marker-cluster')].map(e => Number(e.dataset.count)),
            markers: [...map.querySelectorAll('.sensor-marker')].map(e => Number(e.dataset.sensor)),
            zoom: Number(map.dataset.zoom),
            view: map.dataset.view.split(',').map(Number),
        })"""
    )


def inside(view, latitude, longitude) -> bool:
    west, south, east, north = view
    return west <= longitude <= east and south <= latitude <= north


def test_clusters_gather_the_sensors_at_the_opening_view_and_split_when_opened(live_server, demo):
    sensors = located()
    assert len(sensors) > 70
    with browser_page(viewport=VIEWPORT) as page:
        page.route(OSM_TILES, lambda route: route.abort())
        page.goto(f"{live_server.url}/register/")
        wait_for_markers(page, len(sensors))
        opening = shown(page)
        # A few clusters, not 80 dots: and together they hold every sensor.
        assert 2 <= len(opening["clusters"]) <= 10, opening
        assert sum(opening["clusters"]) + len(opening["markers"]) == len(sensors)
        largest = page.locator("#register-map .marker-cluster").first
        expect(largest).to_have_attribute("aria-label", f"{largest.get_attribute('data-count')} sensors")

        biggest = max(opening["clusters"])
        page.locator(f"#register-map .marker-cluster[data-count='{biggest}']").first.click()
        page.wait_for_function(f"Number(document.getElementById('register-map').dataset.zoom) > {opening['zoom']}")
        page.wait_for_timeout(600)  # the clusters' split animation
        opened = shown(page)
        assert max(opened["clusters"] or [0]) < biggest
        assert len(opened["clusters"]) + len(opened["markers"]) > 1


# Each filter and what it selects (one browser and one demo for all: a test each loaded the demo four times).
FILTERS = [
    "organisation=city-of-melbourne",
    "type=lidar-counter",
    "area=AREA",  # Stratumseind
    "type=thermal-counter",  # one sensor
]


def test_the_map_fits_to_the_sensors_the_filters_select(live_server, demo):
    from sensors.models import Area

    everything = located()
    area = Area.objects.get(name="Stratumseind")
    fields = {"organisation": "controller__slug", "type": "sensor_type__code", "area": "area_id"}
    cases = []
    for query in FILTERS:
        query = query.replace("AREA", str(area.pk))
        name, value = query.split("=")
        selected = located(selectors.register_sensors().filter(**{fields[name]: value}))
        assert selected and [sensor for sensor in everything if sensor not in selected], query
        cases.append((query, selected))
    with browser_page(viewport=VIEWPORT) as page:
        page.route(OSM_TILES, lambda route: route.abort())
        page.goto(f"{live_server.url}/register/")
        wait_for_markers(page, len(everything))
        whole = shown(page)
        fitted = {}
        for query, selected in cases:
            page.goto(f"{live_server.url}/register/?{query}")
            wait_for_markers(page, len(selected))
            page.wait_for_timeout(300)
            fitted[query] = shown(page)
    for query, selected in cases:
        view = fitted[query]
        # Every selected sensor in view and on the map, nothing else on it, and a closer view than the whole register.
        assert all(inside(view["view"], latitude, longitude) for _, latitude, longitude in selected), query
        assert sum(view["clusters"]) + len(view["markers"]) == len(selected), query
        assert set(view["markers"]) <= {pk for pk, _, _ in selected}, query
        assert view["zoom"] > whole["zoom"], query
        if len(selected) == 1:
            # No tile loads here: street level would be a plain square of Natural Earth land, so the view stays
            # where a coast nearby would still show (ADR 0012); test_a_close_up_* has the street level on tiles.
            assert view["markers"] == [selected[0][0]] and view["zoom"] == CLOSE_UP_ON_LAND, query


def test_a_filter_that_selects_nothing_keeps_the_whole_register_in_view_and_says_so(live_server, demo):
    everything = located()
    assert not selectors.register_sensors().filter(
        sensor_type__code="lidar-counter", controller__slug="city-of-melbourne"
    )
    with browser_page(viewport=VIEWPORT) as page:
        page.route(OSM_TILES, lambda route: route.abort())
        page.goto(f"{live_server.url}/register/")
        wait_for_markers(page, len(everything))
        whole = shown(page)
        page.goto(f"{live_server.url}/register/?type=lidar-counter&organisation=city-of-melbourne")
        wait_for_markers(page, 0)
        expect(page.locator("#register-map-empty")).to_have_text(
            "No sensor matches these filters: the map shows the whole register."
        )
        expect(page.locator("#sensor-list tbody")).to_contain_text("No sensors match these filters.")
        assert shown(page)["zoom"] == whole["zoom"]


def test_without_tiles_natural_earth_land_shows_and_the_page_says_so(live_server, demo):
    everything = located()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for locale, language, note in [
        (
            "en-GB",
            "en",
            "The background map could not be loaded. In its place the map shows land and sea from Natural Earth,"
            " without streets or place names: close up, it is one plain colour.",
        ),
        (
            "nl-NL",
            "nl",
            "De achtergrondkaart kon niet worden geladen. In plaats daarvan toont de kaart land en zee van Natural"
            " Earth, zonder straten of plaatsnamen: van dichtbij is het één egale kleur.",
        ),
    ]:
        tried = []
        with browser_page(locale, viewport=VIEWPORT) as page:

            def refuse(route, request, *, tried=tried):
                tried.append(route.request.url)
                route.abort("internetdisconnected")

            page.route(OSM_TILES, refuse)
            page.goto(f"{live_server.url}/register/")
            wait_for_markers(page, len(everything))
            expect(page.locator("#register-map")).to_have_attribute("data-background", "land")
            expect(page.locator("#register-map")).to_have_attribute("data-land", "shown")
            # Land is drawn (SVG paths in its own pane below the tiles), and the page says in words why.
            expect(page.locator("#register-map .leaflet-crowdmap-land-pane path").first).to_be_attached()
            expect(page.locator("[data-map-note-for=register-map]")).to_be_visible()
            expect(page.locator("[data-map-note-for=register-map]")).to_contain_text(note)
            # The credits name what shows: Natural Earth, not OpenStreetMap, whose tiles did not load.
            attribution = page.locator("#register-map .leaflet-control-attribution")
            expect(attribution).to_contain_text("Natural Earth")
            expect(attribution).not_to_contain_text("OpenStreetMap")
            expect(page.locator("#register-map .leaflet-control-scale-line")).to_be_visible()
            assert tried
            page.screenshot(path=str(ARTEFACTS / f"register-fallback-{language}.png"))


def test_tiles_show_with_their_attribution_and_are_asked_for_with_the_origin_as_referer(live_server, demo):
    tile = png_tile()
    everything = located()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for locale, language in [("en-GB", "en"), ("nl-NL", "nl")]:
        referers = []
        with browser_page(locale, viewport=VIEWPORT) as page:

            def serve(route, request, *, referers=referers):
                referers.append(route.request.all_headers().get("referer"))
                route.fulfill(status=200, content_type="image/png", body=tile)

            page.route(OSM_TILES, serve)
            page.goto(f"{live_server.url}/register/")
            wait_for_markers(page, len(everything))
            expect(page.locator("#register-map")).to_have_attribute("data-background", "tiles", timeout=15_000)
            expect(page.locator("#register-map img.leaflet-tile-loaded").first).to_be_visible()
            expect(page.locator("#register-map .leaflet-control-attribution")).to_contain_text(
                "© OpenStreetMap contributors"
            )
            licence_link = (
                "#register-map .leaflet-control-attribution a[href='https://www.openstreetmap.org/copyright']"
            )
            expect(page.locator(licence_link)).to_be_visible()
            expect(page.locator("[data-map-note-for=register-map]")).to_be_hidden()
            page.screenshot(path=str(ARTEFACTS / f"register-tiles-{language}.png"))
        # OpenStreetMap's policy wants a Referer: the origin alone, never the page's path or its filters.
        assert referers and set(referers) == {f"{live_server.url}/"}, set(referers)


def test_the_tiles_credit_returns_when_tiles_load_after_failing(live_server, demo):
    tile = png_tile()
    everything = located()
    online = []
    with browser_page(viewport=VIEWPORT) as page:
        page.route(
            OSM_TILES, lambda route: route.fulfill(body=tile, content_type="image/png") if online else route.abort()
        )
        page.goto(f"{live_server.url}/register/")
        wait_for_markers(page, len(everything))
        attribution = page.locator("#register-map .leaflet-control-attribution")
        expect(page.locator("#register-map")).to_have_attribute("data-background", "land")
        expect(attribution).not_to_contain_text("OpenStreetMap")
        online.append(True)  # the tile server answers again: the next view's tiles load
        page.locator("#register-map .leaflet-control-zoom-in").click()
        expect(page.locator("#register-map")).to_have_attribute("data-background", "tiles", timeout=15_000)
        expect(attribution).to_contain_text("© OpenStreetMap contributors")
        expect(attribution).to_contain_text("Natural Earth")  # still drawn below the tiles that failed
        expect(page.locator("[data-map-note-for=register-map]")).to_be_hidden()


def test_a_close_up_is_street_level_on_tiles_and_wider_on_natural_earth_land(live_server, demo):
    sensor = selectors.register_sensors().filter(latitude__isnull=False).first()
    tile = png_tile()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for tiles, background, zoom in [(True, "tiles", CLOSE_UP), (False, "land", CLOSE_UP_ON_LAND)]:
        with browser_page(viewport=VIEWPORT) as page:
            if tiles:
                page.route(OSM_TILES, lambda route: route.fulfill(body=tile, content_type="image/png"))
            else:
                page.route(OSM_TILES, lambda route: route.abort())
            page.goto(f"{live_server.url}/register/sensors/{sensor.pk}/")
            map_ = page.locator("#sensor-map")
            expect(map_).to_have_attribute("data-background", background, timeout=15_000)
            # The view settles after the tiles fail (they may fail after the page set the street-level view).
            expect(map_).to_have_attribute("data-zoom", str(zoom), timeout=15_000)
            view = [float(number) for number in map_.get_attribute("data-view").split(",")]
            assert inside(view, float(sensor.latitude), float(sensor.longitude))
            expect(page.locator("#sensor-map .leaflet-control-scale-line")).to_be_visible()
            if not tiles:
                expect(map_).to_have_attribute("data-land", "shown", timeout=15_000)
                page.screenshot(path=str(ARTEFACTS / "sensor-close-up-land.png"))


def test_with_the_tile_setting_empty_no_request_leaves_the_site(live_server, demo, settings):
    settings.MAP_TILE_URL = settings.MAP_TILE_ATTRIBUTION = ""
    sensor = selectors.register_sensors().filter(latitude__isnull=False).first()
    everything = located()
    requests = []
    with browser_page(viewport=VIEWPORT) as page:
        page.on("request", lambda request: requests.append(request.url))
        page.goto(f"{live_server.url}/register/")
        wait_for_markers(page, len(everything))
        expect(page.locator("#register-map")).to_have_attribute("data-land", "shown", timeout=15_000)
        expect(page.locator("[data-map-note-for=register-map]")).to_have_text(
            "No background map is configured. The map shows land and sea from Natural Earth, without streets or"
            " place names: close up, it is one plain colour."
        )
        page.goto(f"{live_server.url}/register/sensors/{sensor.pk}/")
        expect(page.locator("#sensor-map")).to_have_attribute("data-land", "shown", timeout=15_000)
    assert requests and all(url.startswith(live_server.url) for url in requests), requests


def test_a_rows_show_on_the_map_opens_its_popup_and_the_counts_agree(live_server, demo):
    listed = selectors.register_sensors().count()
    everything = located()
    without_location = listed - len(everything)
    target = selectors.register_sensors().get(name="Stratumseind, north entrance")
    with browser_page(viewport=VIEWPORT) as page:
        page.route(OSM_TILES, lambda route: route.abort())
        page.goto(f"{live_server.url}/register/")
        wait_for_markers(page, len(everything))
        # The count above the list: the markers plus the sensors listed without a published location.
        expect(page.locator("#sensor-count")).to_have_text(f"{listed} sensors")
        expect(page.locator("#sensor-count-map")).to_contain_text(f"{len(everything)} of them are on the map.")
        if without_location:
            expect(page.locator("#sensor-count-map")).to_contain_text(f"{without_location} ")
        expect(page.locator("#sensor-list tbody tr")).to_have_count(listed)

        row = page.locator("#sensor-list tbody tr", has_text=target.name)
        row.get_by_role("button", name=f"Show on the map: {target.name}").click()
        popup = page.locator("#register-map .leaflet-popup-content")
        expect(popup).to_be_visible(timeout=10_000)
        expect(popup.get_by_role("link", name=target.name)).to_have_attribute("href", f"/register/sensors/{target.pk}/")
        expect(page.locator(f"#register-map .sensor-marker[data-sensor='{target.pk}']")).to_be_focused()
        popup.get_by_role("link", name=target.name).click()
        expect(page.locator("h1")).to_have_text(target.name)


def test_the_filter_form_works_without_javascript(live_server, demo):
    listed = selectors.register_sensors().count()
    lidar = selectors.register_sensors().filter(sensor_type__code="lidar-counter").count()
    assert 0 < lidar < listed
    with browser_page(viewport=VIEWPORT, java_script_enabled=False) as page:
        page.goto(f"{live_server.url}/register/")
        expect(page.locator("#sensor-list tbody tr")).to_have_count(listed)
        page.select_option("#filter-type", "lidar-counter")  # no script: nothing happens until the button
        expect(page.locator("#sensor-list tbody tr")).to_have_count(listed)
        page.get_by_role("button", name="Show", exact=True).click()
        page.wait_for_url("**/register/?*type=lidar-counter*")
        expect(page.locator("#sensor-list tbody tr")).to_have_count(lidar)
        expect(page.locator("#filter-type")).to_have_value("lidar-counter")


def test_markers_and_clusters_are_reachable_and_opened_with_the_keyboard(live_server, demo):
    everything = located()
    lidar = located(selectors.register_sensors().filter(sensor_type__code="lidar-counter"))

    def tab_to(page, selector: str, presses: int = 40) -> bool:
        for _ in range(presses):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return True
        return False

    with browser_page(viewport=VIEWPORT) as page:
        page.route(OSM_TILES, lambda route: route.abort())
        page.goto(f"{live_server.url}/register/")
        wait_for_markers(page, len(everything))
        zoom = shown(page)["zoom"]
        assert tab_to(page, "#register-map .marker-cluster")
        label = page.evaluate("document.activeElement.getAttribute('aria-label')")
        assert label.endswith(" sensors") and int(label.split()[0]) > 1
        page.keyboard.press("Enter")
        page.wait_for_function(f"Number(document.getElementById('register-map').dataset.zoom) > {zoom}")
        # The focus goes on to a marker or a smaller cluster that the opened cluster held, on the map and in
        # view (ADR 0012), not back to the map's box: the keyboard user carries on where they were.
        page.wait_for_function(
            """() => document.activeElement.matches('#register-map .sensor-marker, #register-map .marker-cluster')""",
            timeout=5_000,
        )
        focused = page.evaluate(
            """() => {
                const map = document.getElementById('register-map').getBoundingClientRect();
                const box = document.activeElement.getBoundingClientRect();
                const x = box.left + box.width / 2, y = box.top + box.height / 2;
                return { count: Number(document.activeElement.dataset.count || 1),
                         inside: map.left <= x && x <= map.right && map.top <= y && y <= map.bottom };
            }"""
        )
        assert focused["inside"] and focused["count"] < int(label.split()[0]), focused
        assert page.evaluate("document.activeElement.isConnected")

        page.goto(f"{live_server.url}/register/?type=lidar-counter")
        wait_for_markers(page, len(lidar))
        assert tab_to(page, "#register-map .sensor-marker")
        name = page.evaluate("document.activeElement.getAttribute('aria-label')")
        assert name.startswith("Stratumseind")
        page.keyboard.press("Enter")
        expect(page.locator("#register-map .leaflet-popup-content")).to_contain_text(name)


def test_leaflets_own_controls_speak_the_pages_language(live_server, demo):
    everything = located()
    target = selectors.register_sensors().get(name="Stratumseind, north entrance")
    sensor = selectors.register_sensors().filter(latitude__isnull=False).first()
    for locale, zoom_in, zoom_out, close, library in [
        ("en-GB", "Zoom in", "Zoom out", "Close the pop-up", "A JavaScript library for interactive maps"),
        ("nl-NL", "Inzoomen", "Uitzoomen", "Pop-up sluiten", "Een JavaScript-bibliotheek voor interactieve kaarten"),
    ]:
        with browser_page(locale, viewport=VIEWPORT) as page:
            page.route(OSM_TILES, lambda route: route.abort())
            page.goto(f"{live_server.url}/register/")
            wait_for_markers(page, len(everything))
            # The zoom buttons are reached by Tab: their names (title and aria-label) are the page's words.
            for selector, words in [(".leaflet-control-zoom-in", zoom_in), (".leaflet-control-zoom-out", zoom_out)]:
                button = page.locator(f"#register-map {selector}")
                expect(button).to_have_attribute("title", words)
                expect(button).to_have_attribute("aria-label", words)
            expect(
                page.locator("#register-map .leaflet-control-attribution a[href='https://leafletjs.com']")
            ).to_have_attribute("title", library)
            page.locator(f"#sensor-list button[data-sensor='{target.pk}']").click()
            expect(page.locator("#register-map .leaflet-popup-content")).to_be_visible(timeout=10_000)
            expect(page.locator("#register-map .leaflet-popup-close-button")).to_have_attribute("aria-label", close)
            page.goto(f"{live_server.url}/register/sensors/{sensor.pk}/")
            expect(page.locator("#sensor-map .leaflet-control-zoom-in")).to_have_attribute("title", zoom_in)
