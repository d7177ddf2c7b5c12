"""The public register in a real browser (Debian's Chromium, headless, driven by Playwright)."""

import pytest
from playwright.sync_api import expect

from sensors import selectors
from sensors.models import SensorType
from tests.e2e.conftest import browser_page

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.browser]


def shown_on_map(page) -> int:
    """Sensors the map shows: single markers plus the numbers in the clusters."""
    clusters = page.locator("#register-map .marker-cluster").evaluate_all(
        "elements => elements.reduce((sum, e) => sum + Number(e.dataset.count), 0)"
    )
    return clusters + page.locator("#register-map .sensor-marker").count()


def test_markers_appear_for_the_demo_sensors_and_filters_change_them(live_server, demo, settings):
    settings.MAP_TILE_URL = settings.MAP_TILE_ATTRIBUTION = ""
    on_map = selectors.register_sensors().filter(latitude__isnull=False)
    all_markers = on_map.count()
    lidar_markers = on_map.filter(sensor_type__code="lidar-counter").count()
    listed = selectors.register_sensors().count()
    assert all_markers > 70 and 0 < lidar_markers < all_markers
    requests = []
    with browser_page() as page:
        page.on("request", lambda request: requests.append(request.url))
        page.goto(f"{live_server.url}/register/")
        expect(page.locator("#register-map")).to_have_attribute("data-markers", str(all_markers), timeout=15_000)
        assert shown_on_map(page) == all_markers
        expect(page.locator("#sensor-list tbody tr")).to_have_count(listed)

        page.select_option("#filter-type", "lidar-counter")
        page.locator("#register-filters button[type=submit]").click()
        page.wait_for_url("**/register/?*type=lidar-counter*")
        expect(page.locator("#register-map")).to_have_attribute("data-markers", str(lidar_markers), timeout=15_000)
        assert shown_on_map(page) == lidar_markers
        expect(page.locator("#sensor-list tbody tr")).to_have_count(lidar_markers)
        expect(page.locator("#restricted-summary")).to_contain_text("Counting camera, Stratumseind: 1")
    # No tiles are configured (the setting is empty): the page asked nothing of any other host.
    assert requests and all(url.startswith(live_server.url) for url in requests), requests


def test_the_detail_page_explains_the_type_in_english_and_dutch(live_server, demo):
    camera = SensorType.objects.get(code="counting-camera")
    name = selectors.register_sensors().get(sensor_type=camera, name="Markt, north side").name
    with browser_page("en-GB") as page:
        page.goto(f"{live_server.url}/register/?type=counting-camera")
        page.get_by_role("link", name=name).click()
        expect(page.locator("h1")).to_have_text(name)
        expect(page.locator(".sensor-type")).to_contain_text(camera.explanation_en)
        expect(page.locator("#personal-data")).to_contain_text("processed inside the device")
        expect(page.locator("#sensor-map .sensor-marker")).to_have_count(1)
        expect(page.locator("#sensor-map .sensor-marker")).to_have_attribute("aria-label", name)
    with browser_page("nl-NL") as page:
        page.goto(f"{live_server.url}/register/?type=counting-camera")
        page.get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", name="Wat is het?")).to_be_visible()
        expect(page.locator(".sensor-type")).to_contain_text(camera.explanation_nl)
        expect(page.locator(".sensor-type")).to_contain_text(camera.name_nl)


def test_no_page_breaks_its_content_security_policy(live_server, demo):
    """The pages and both API viewers work under the CSP: the browser reports no violation, and things render."""
    sensor = selectors.register_sensors().filter(latitude__isnull=False).first()
    violations = []
    with browser_page() as page:
        page.on(
            "console",
            lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
        )
        for path, ready in [
            ("/", "h1"),
            ("/register/", "#register-map .marker-cluster"),
            (f"/register/sensors/{sensor.pk}/", "#sensor-map .sensor-marker"),
            ("/dashboard/", "#dashboard[data-state=ready] path.dashboard-area"),
            ("/accounts/login/", "form button[type=submit]"),
            ("/api/docs/", ".swagger-ui .opblock"),
            ("/api/redoc/", "[role=menuitem], .menu-content li"),
        ]:
            response = page.goto(f"{live_server.url}{path}")
            assert "script-src 'self'" in response.headers["content-security-policy"], path
            expect(page.locator(ready).first).to_be_visible(timeout=15_000)
    # Redoc's sidebar shows its maker's logo from cdn.redoc.ly: the policy blocks it as designed (no other host).
    assert [v for v in violations if "https://cdn.redoc.ly/" not in v] == []
