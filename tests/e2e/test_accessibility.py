"""Every page in a real browser, in English and Dutch: axe-core finds no serious or critical violation (WCAG 2.1
A/AA and best practices), the page declares its language, and a full-page screenshot of it is saved
(tests/e2e/a11y.py); and the pages work with the keyboard alone."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from datasets.models import Dataset
from purposes.access_log import EventContent, access_event_append
from sensors import selectors
from sensors.models import Sensor, SensorStatus
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import browser_page

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.browser]

LOCALES = {"en": "en-GB", "nl": "nl-NL"}
VIEWPORT = {"width": 1200, "height": 900}


def sensor_on_map():
    """A sensor on the map whose data was asked for twice this month (allowed, refused): its page has every section."""
    passages = Dataset.objects.get(title="Centre passages (simulated)")
    sensor = passages.sensors.filter(latitude__isnull=False, status=SensorStatus.ACTIVE).order_by("pk")[0]
    for decision in ("allowed", "refused"):
        access_event_append(
            content=EventContent(
                actor_kind="anonymous", actor_name="", organisation_id=None, organisation_slug="",
                purpose_code=settings.DASHBOARD_PURPOSE, purpose_holder_id=None, dataset_ids=(passages.pk,),
                dataset_owner_ids={passages.pk: passages.owner_id}, endpoint="datasets-api:indicator-values",
                params={}, decision=decision, reason="", status_code=200 if decision == "allowed" else 403,
            )
        )  # fmt: skip
    return sensor


def sensor_removed():
    return selectors.register_sensors().filter(status=SensorStatus.REMOVED).order_by("pk")[0]


def sensor_without_location():
    """The demo places every sensor: take one of its location (as a register without coordinates has it)."""
    sensor = selectors.register_sensors().filter(status=SensorStatus.ACTIVE).order_by("-pk")[0]
    Sensor.objects.filter(pk=sensor.pk).update(latitude=None, longitude=None)
    return sensor


def locked_out(page, url):
    """Sign in with a wrong password until django-axes locks the name: its lockout page."""
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto(f"{url}/accounts/login/")
        page.fill("input[name=username]", "nobody")
        page.fill("input[name=password]", "wrong password")
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()


# A map is drawn once its background is known: tiles, or (no network here) the Natural Earth land.
DRAWN = ":is([data-background=tiles], [data-background=land])"

# Each page: name (for the screenshot), how to get its path from the demo data (read before the browser starts),
# what shows it is ready for axe, and the language it declares (None: the one asked for).
PAGES = {
    "home": (lambda: "/", "main h1", None),
    "register": (lambda: "/register/", f"#register-map[data-markers]{DRAWN} .leaflet-marker-icon", None),
    "register-filtered": (
        lambda: "/register/?type=lidar-counter",
        f"#register-map[data-markers]{DRAWN} .leaflet-marker-icon",
        None,
    ),
    "sensor": (lambda: f"/register/sensors/{sensor_on_map().pk}/", f"#sensor-map{DRAWN} .leaflet-marker-icon", None),
    "sensor-removed": (lambda: f"/register/sensors/{sensor_removed().pk}/", "#sensor-status", None),
    "sensor-without-location": (lambda: f"/register/sensors/{sensor_without_location().pk}/", "main h1", None),
    "dashboard": (lambda: "/dashboard/", "#dashboard[data-state=ready][data-forecast=ready]", None),
    "login": (lambda: "/accounts/login/", "main form button[type=submit]", None),
    "locked-out": (locked_out, "main h1", None),
    # The API viewers: the OpenAPI document is in English, and so are they, whatever the reader's language.
    "api-docs": (lambda: "/api/docs/", ".swagger-ui .opblock", "en"),
    "api-redoc": (lambda: "/api/redoc/", "[role=menuitem], .menu-content li", "en"),
    "not-found": (lambda: "/no-such-page/", "main h1", None),
    "catalogue": (lambda: "/catalogue/", "#catalogue-results", None),
    "catalogue-search": (lambda: "/catalogue/?q=nothing-matches-this", "#catalogue-empty", None),
    "catalogue-dataset": (
        lambda: f"/catalogue/{Dataset.objects.get(title='Centre passages (simulated)').pk}/",
        f"#coverage-map{DRAWN} .leaflet-marker-icon",
        None,
    ),
}


def page_paths() -> dict:
    """Each page's path from the demo data (a database read: call it before the browser starts); None for a page
    reached by acting in the browser (the locked-out page)."""
    return {name: (None if where is locked_out else where()) for name, (where, _, _) in PAGES.items()}


def each_page(page, url: str, paths: dict):
    """Open every page in turn in `page`; yields its name, what shows it is ready and the language it declares."""
    for name, (where, ready, document_language) in PAGES.items():
        if paths[name] is None:
            where(page, url)
        else:
            page.goto(f"{url}{paths[name]}")
        yield name, ready, document_language


@pytest.mark.parametrize("language", LOCALES)
def test_every_page_passes_axe(live_server, demo, language):
    """Every page in one browser (the demo is loaded once per language: a test per page took minutes); each page's
    findings are collected, and the test fails naming every page that has any."""
    paths = page_paths()
    problems = []
    with browser_page(LOCALES[language], viewport=VIEWPORT) as page:
        for name, ready, document_language in each_page(page, live_server.url, paths):
            try:
                expect(page.locator(ready).first).to_be_visible(timeout=30_000)
                assert_accessible(page, name, language, document_language=document_language)
            except AssertionError as problem:
                problems.append(f"{name}: {problem}")
    assert not problems, "\n\n".join(problems)


# Keyboard only -------------------------------------------------------------------------------------------------

FOCUSED = """() => { const el = document.activeElement; const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {tag: el.tagName.toLowerCase(), id: el.id, text: (el.innerText || el.value || '').trim(),
          href: el.getAttribute('href'), inHeader: !!el.closest('header'), inMap: !!el.closest('.map'),
          value: el.getAttribute('value'),
          outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
          shadow: style.boxShadow !== 'none',
          visible: box.width > 1 && box.height > 1 && box.bottom > 0 && box.right > 0
                   && box.top < innerHeight && box.left < innerWidth}; }"""


def tab(page) -> dict:
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    if focused["tag"] != "body":
        assert focused["outline"] or focused["shadow"], f"no visible focus on {focused}"
    return focused


def test_tab_reaches_the_skip_link_first_then_the_nav_and_the_language_switch_works(live_server, demo):
    with browser_page("en-GB", viewport=VIEWPORT) as page:
        page.goto(f"{live_server.url}/register/")
        skip = tab(page)
        assert (skip["tag"], skip["href"], skip["text"], skip["visible"]) == ("a", "#content", "Skip to content", True)
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == "content"
        assert page.evaluate("() => document.activeElement.tagName") == "MAIN"

        page.goto(f"{live_server.url}/register/")
        stops = [tab(page) for _ in range(9)]
        assert [stop["text"] for stop in stops] == [
            "Skip to content", "Crowd Data Platform", "Sensor register", "Dashboard", "Data catalogue", "API docs",
            "Sign in", "EN", "NL",
        ]  # fmt: skip
        assert all(stop["inHeader"] and stop["visible"] for stop in stops[1:])
        assert page.locator("nav a", has_text="Sensor register").get_attribute("aria-current") == "page"
        assert page.locator("nav a", has_text="Dashboard").get_attribute("aria-current") is None
        page.keyboard.press("Enter")  # on NL
        page.wait_for_function("() => document.documentElement.lang === 'nl'")
        expect(page.locator("h1")).to_have_text("Sensorregister")
        assert page.url.endswith("/register/")
        assert [tab(page)["text"] for _ in range(3)] == ["Naar de inhoud", "Crowd Data Platform", "Sensorregister"]


def test_the_register_filters_can_be_set_and_submitted_by_keyboard(live_server, demo):
    lidar = selectors.register_sensors().filter(sensor_type__code="lidar-counter")
    expected = lidar.filter(controller__slug="gemeente-voorbeeldstad").count()
    assert 0 < expected < selectors.register_sensors().count()
    with browser_page("en-GB", viewport=VIEWPORT) as page:
        page.goto(f"{live_server.url}/register/")
        page.locator("#filter-type").focus()
        options = page.eval_on_selector_all("#filter-type option", "options => options.map(o => o.value)")
        for _ in range(options.index("lidar-counter")):
            page.keyboard.press("ArrowDown")  # choosing an option does not leave the page
        assert page.url == f"{live_server.url}/register/"
        assert page.evaluate("() => document.activeElement.id") == "filter-type"
        assert tab(page)["id"] == "filter-organisation"
        options = page.eval_on_selector_all("#filter-organisation option", "options => options.map(o => o.value)")
        for _ in range(options.index("gemeente-voorbeeldstad")):
            page.keyboard.press("ArrowDown")
        assert tab(page)["id"] == "filter-area"  # left at "all areas"
        button = tab(page)
        assert (button["tag"], button["text"]) == ("button", "Show")
        page.keyboard.press("Enter")
        page.wait_for_url("**/register/?type=lidar-counter&organisation=gemeente-voorbeeldstad*")
        expect(page.locator("#sensor-list tbody tr")).to_have_count(expected)
        expect(page.locator("#register-map")).to_have_attribute("data-markers", str(expected), timeout=15_000)


def test_the_dashboard_area_buttons_work_by_keyboard(live_server, demo):
    with browser_page("en-GB", viewport=VIEWPORT) as page:
        page.goto(f"{live_server.url}/dashboard/")
        expect(page.locator("#dashboard")).to_have_attribute("data-state", "ready", timeout=30_000)
        buttons = page.locator("#dashboard-areas button")
        expect(buttons.first).to_have_attribute("aria-pressed", "true")
        last = buttons.nth(buttons.count() - 1)
        name = last.locator("strong").inner_text()
        for _ in range(200):
            focused = tab(page)
            if focused["tag"] == "button" and focused["text"].startswith(name):
                break
        else:
            raise AssertionError(f"Tab never reached the area button {name}")
        page.keyboard.press("Enter")
        expect(last).to_have_attribute("aria-pressed", "true")
        expect(page.locator("#dashboard-chart-heading")).to_contain_text(name)
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Space")
        expect(last).to_have_attribute("aria-pressed", "false")
        expect(buttons.nth(buttons.count() - 2)).to_have_attribute("aria-pressed", "true")


@pytest.mark.parametrize("name", ["register", "sensor", "dashboard"])
def test_tab_goes_through_the_page_and_out_of_its_map_with_focus_always_visible(live_server, demo, name):
    where, ready, _ = PAGES[name]
    path = where()
    with browser_page("en-GB", viewport=VIEWPORT) as page:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator(ready).first).to_be_visible(timeout=30_000)
        stops = []
        for _ in range(300):
            focused = tab(page)  # asserts the focus shows
            if focused["tag"] == "body" or (stops and focused == stops[0]):
                break  # past the last element: out of the page, or round to the first again
            stops.append(focused)
        else:
            raise AssertionError(f"Tab is caught: {stops[-5:]}")
        in_map = [index for index, stop in enumerate(stops) if stop["inMap"]]
        assert in_map, "the map cannot be reached by keyboard"
        assert len(stops) > in_map[-1] + 1, "Tab does not leave the map"
