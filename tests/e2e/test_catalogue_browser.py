"""The catalogue for researchers in a real browser (Debian's Chromium, headless, driven by Playwright), with the
demo: searching by words and by a facet narrows the list; a dataset's page shows its schema, licence, coverage map
and purposes (open ones first); the request its Copy button puts on the clipboard runs, as copied, against the live
server and answers with data; in English and Dutch, under the CSP.

Screenshots go to $TEST_ARTEFACTS (default: test-artefacts/ in the repository, git-ignored)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.selectors import ANONYMOUS
from datasets.models import Dataset
from datasets.selectors import dataset_places, public_datasets
from tests.e2e.conftest import browser_page

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.browser]

PROJECT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("TEST_ARTEFACTS") or PROJECT / "test-artefacts")
VIEWPORT = {"width": 1200, "height": 900}


def csp_watch(page) -> list[str]:
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return violations


def titles(page) -> list[str]:
    return page.locator("#catalogue-results li.dataset h3").all_inner_texts()


def test_search_by_words_and_by_a_facet_narrows_the_list(live_server, demo):
    everything = sorted(public_datasets().values_list("title", flat=True))
    assert len(everything) == 4
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with browser_page(viewport=VIEWPORT) as page:
        violations = csp_watch(page)
        page.goto(f"{live_server.url}/catalogue/")
        assert sorted(titles(page)) == everything
        expect(page.locator("#result-count")).to_have_text("4 datasets")
        page.screenshot(path=str(ARTEFACTS / "catalogue-en.png"), full_page=True)

        page.get_by_label("Search words").fill("nightlife")
        page.get_by_role("button", name="Search", exact=True).click()
        page.wait_for_url("**/catalogue/?*q=nightlife*")
        assert titles(page) == ["Stratumseind passages"]

        page.get_by_label("Search words").fill("")
        page.get_by_label("Theme").select_option(label="Transport")
        page.get_by_role("button", name="Search", exact=True).click()
        page.wait_for_url("**/catalogue/?*theme=TRAN*")
        assert titles(page) == ["Centre passages (simulated)", "Pedestrian counts, January 2011"]

        page.get_by_label("Organisation").select_option(label="City of Melbourne")  # combined with the theme
        page.get_by_role("button", name="Search", exact=True).click()
        page.wait_for_url("**/catalogue/?*organisation=city-of-melbourne*")
        assert titles(page) == ["Pedestrian counts, January 2011"]
        assert "theme=TRAN" in page.url  # the search is in the URL: it can be shared

        page.get_by_label("Search words").fill("zeppelin")
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page.locator("#catalogue-empty")).to_contain_text("No dataset matches this search")
    with browser_page("nl-NL", viewport=VIEWPORT) as page:
        violations += csp_watch(page)
        page.goto(f"{live_server.url}/catalogue/")
        expect(page.locator("h1")).to_have_text("Datacatalogus")
        page.get_by_label("Thema").select_option(label="Justitie, rechtsstelsel en openbare veiligheid")
        page.get_by_role("button", name="Zoeken", exact=True).click()
        page.wait_for_url("**/catalogue/?*theme=JUST*")
        assert titles(page) == ["Stratumseind passages"]
        page.goto(f"{live_server.url}/catalogue/")
        page.screenshot(path=str(ARTEFACTS / "catalogue-nl.png"), full_page=True)
    assert violations == []


def run(command: str) -> subprocess.CompletedProcess:
    assert shutil.which("curl"), "curl is needed to run the copied request"
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)  # noqa: S603, S607


def test_a_dataset_page_and_its_copied_request_work_against_the_live_server(live_server, demo):
    melbourne = Dataset.objects.get(title="Pedestrian counts, January 2011")
    places = dataset_places(public_datasets().get(pk=melbourne.pk), caller=ANONYMOUS)
    areas = len(places.area_ids)
    sensors = melbourne.sensors.filter(pk__in=places.sensor_ids, latitude__isnull=False).count()
    assert areas and sensors
    measures, licence = len(melbourne.schema_version.measures), melbourne.licence
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    url = f"{live_server.url}/catalogue/{melbourne.pk}/"
    with browser_page(viewport=VIEWPORT, permissions=["clipboard-read", "clipboard-write"]) as page:
        violations = csp_watch(page)
        page.goto(f"{live_server.url}/catalogue/?q=Melbourne")
        page.get_by_role("link", name="Pedestrian counts, January 2011").click()
        page.wait_for_url(url)
        expect(page.locator("h1")).to_have_text("Pedestrian counts, January 2011")
        expect(page.locator("#measures tbody tr")).to_have_count(measures)
        expect(page.locator("#measures")).to_contain_text("persons")
        expect(page.locator("#licence")).to_have_attribute("href", licence)
        expect(page.locator("#update-frequency")).to_have_text("hourly")
        # The coverage map: every public area's polygon and every public sensor, as the lists beside it say.
        expect(page.locator("#coverage-map")).to_have_attribute("data-shapes", str(areas + sensors), timeout=15_000)
        expect(page.locator("#coverage-map .leaflet-overlay-pane path")).to_have_count(areas)
        expect(page.locator("#coverage-map .coverage-sensor")).to_have_count(sensors)
        expect(page.locator("#coverage-areas li")).to_have_count(areas)
        # The shared base map (web/map.js): no tile loads here (no outside network), so Natural Earth's land shows.
        expect(page.locator("#coverage-map")).to_have_attribute("data-background", "land", timeout=15_000)
        # A marker is reached by the keyboard and opens its name.
        page.locator("#coverage-map .coverage-sensor").first.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#coverage-map .leaflet-popup-content")).not_to_be_empty()
        # Purposes: the open one first.
        uses = page.locator("li.use")
        expect(uses.first).to_have_attribute("data-open", "true")
        expect(uses.first).to_have_attribute("data-purpose", "melbourne-open-statistics")
        expect(uses.first).to_contain_text("Open to anyone")
        assert all(value == "false" for value in uses.evaluate_all("us => us.slice(1).map(u => u.dataset.open)"))
        page.screenshot(path=str(ARTEFACTS / "catalogue-dataset-en.png"), full_page=True)

        # Copy the open request, and run exactly what the clipboard holds.
        copy = uses.first.get_by_role("button", name="Copy")
        expect(copy).to_be_visible()
        copy.click()
        expect(uses.first.locator(".copied")).to_have_text("Copied.")
        command = page.evaluate("navigator.clipboard.readText()")
        assert command == uses.first.locator("pre code").inner_text()
    assert command.startswith(f"curl -s --fail-with-body '{live_server.url}/api/v1/aggregates/counts/?"), command
    answered = run(command)
    assert answered.returncode == 0, (command, answered.stdout, answered.stderr)  # --fail-with-body: below 400
    cells = json.loads(answered.stdout)["results"]
    assert cells and any(cell["count"] for cell in cells), answered.stdout[:500]
    status = run(command + " -o /dev/null -w '%{http_code}'")
    assert status.stdout == "200"
    assert violations == []

    with browser_page("nl-NL", viewport=VIEWPORT) as page:
        violations = csp_watch(page)
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", "nl")
        expect(page.get_by_role("heading", name="Wie mag de data lezen, en hoe")).to_be_visible()
        expect(page.locator("li.use").first).to_contain_text("Open voor iedereen")
        expect(page.locator("#update-frequency")).to_have_text("elk uur")
        expect(page.locator("#coverage-map")).to_have_attribute("data-shapes", str(areas + sensors), timeout=15_000)
        page.screenshot(path=str(ARTEFACTS / "catalogue-dataset-nl.png"), full_page=True)
    assert violations == []


def test_an_unknown_dataset_is_a_page_not_found(live_server, demo):
    restricted = list(Dataset.objects.exclude(pk__in=public_datasets().values("pk")).values_list("pk", flat=True))
    missing = max(Dataset.objects.values_list("pk", flat=True)) + 1
    with browser_page() as page:
        for pk in [missing, *restricted]:
            response = page.goto(f"{live_server.url}/catalogue/{pk}/")
            assert response.status == 404 and response.headers["content-type"].startswith("text/html")
