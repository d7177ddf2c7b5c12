"""The open dashboard in a real browser (Debian's Chromium, headless, driven by Playwright): the map with each
area's level, the chart with the usual number and the forecast, and the table, in English and Dutch, read under
the public purpose the page names; a withheld cell, no data and a refusal each say so.

Screenshots go to $TEST_ARTEFACTS (default: test-artefacts/ in the repository, git-ignored)."""

import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect
from rest_framework.test import APIClient

from accounts.models import Organisation, Role
from accounts.selectors import Caller
from datasets import services as datasets_services
from datasets.models import AccessClassification, Dataset, DatasetStatus, SchemaVersion
from purposes import services as purposes_services
from purposes.models import AccessEvent, AccessLevel, PurposeCategory
from tests.e2e.conftest import browser_page

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.browser]

PROJECT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("TEST_ARTEFACTS") or PROJECT / "test-artefacts")
PURPOSE = "vbs-open-dashboard"
VIEWPORT = {"width": 1200, "height": 900}
LEVELS = {
    "en": {"green": "green: room to move", "yellow": "yellow: busy", "orange": "orange: crowded",
           "red": "red: very crowded"},
    "nl": {"green": "groen: ruimte genoeg", "yellow": "geel: druk", "orange": "oranje: vol", "red": "rood: te vol"},
}  # fmt: skip
WORDS = {
    "en": {
        "series": ["People passing per 15 minutes", "Usual: median of the 4 previous weeks", "Forecast"],
        "notice": f"These figures are read under purpose {PURPOSE}: Open dashboard of how busy the city centre is. "
        "Every read is logged.",
        "heading": "How busy is the city centre?",
        "withheld": "withheld (fewer than 10 people)",
        "events": "The forecast includes events in the event calendar.",
    },
    "nl": {
        "series": ["Passanten per kwartier", "Normaal: mediaan van de 4 weken ervoor", "Verwachting"],
        "notice": f"Deze cijfers worden gelezen onder doel {PURPOSE}: Open dashboard of how busy the city centre is. "
        "Elke lezing wordt vastgelegd.",
        "heading": "Hoe druk is het in het centrum?",
        "withheld": "weggelaten (minder dan 10 personen)",
        "events": "De verwachting telt de evenementen uit de evenementenkalender mee.",
    },
}


def values(code, dataset, areas, **extra):
    """What the page should show: the API's answer, read here as anyone may."""
    params = {"dataset": dataset.pk, "bucket": "15m", "area": [pk for pk, _ in areas], **extra}
    response = APIClient().get(f"/api/v1/indicators/{code}/values/", params, HTTP_X_PURPOSE=PURPOSE)
    assert response.status_code == 200, response.content
    return response.json()


def chart(page):
    return page.evaluate(
        """() => { const chart = Chart.getChart('dashboard-chart');
                   return {labels: chart.data.labels, series: chart.data.datasets.map(d => [d.label, d.data]),
                           legend: chart.legend.legendItems.map(item => item.text)}; }"""
    )


def test_the_dashboard_shows_levels_chart_and_table_in_english_and_dutch(live_server, demo, settings):
    # No tiles (the machine has no outside network): the console must stay free of errors, failed tiles too.
    settings.MAP_TILE_URL = settings.MAP_TILE_ATTRIBUTION = ""
    passages = Dataset.objects.get(title="Centre passages (simulated)")
    areas = list(passages.areas.order_by("name").values_list("pk", "name"))
    first = areas[0][0]  # the page shows the first area's chart until another is chosen
    crowding = values("crowding-level", passages, areas)
    counts = values("count", passages, areas)
    expected_counts = [cell["value"] for cell in counts["results"] if cell["area"] == first]
    level_now = {
        pk: [cell["level"] for cell in crowding["results"] if cell["area"] == pk and cell["level"]][-1]
        for pk, _ in areas
    }
    first_cells = [cell for cell in counts["results"] if cell["area"] == first]
    gaps = [index for index, cell in enumerate(first_cells) if "suppressed" in cell["flags"]]
    assert gaps  # Stationsplein's quiet night quarters
    logged_before = set(AccessEvent.objects.values_list("pk", flat=True))
    ARTEFACTS.mkdir(parents=True, exist_ok=True)

    for locale, language in [("en-GB", "en"), ("nl-NL", "nl")]:
        words, requests, errors = WORDS[language], [], []
        with browser_page(locale, viewport=VIEWPORT) as page:
            page.on(
                "console",
                lambda message, errors=errors: errors.append(message.text) if message.type == "error" else None,
            )
            page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
            page.on("request", lambda request, requests=requests: requests.append(request))
            page.goto(f"{live_server.url}/dashboard/")
            expect(page.locator("#dashboard")).to_have_attribute("data-state", "ready", timeout=30_000)
            expect(page.locator("#dashboard")).to_have_attribute("data-forecast", "ready", timeout=30_000)
            expect(page.locator("h1")).to_have_text(words["heading"])
            expect(page.locator("#dashboard-purpose")).to_contain_text(words["notice"])
            link = page.locator("#dashboard-purpose a")
            expect(link).to_have_attribute("href", f"/api/v1/public/purposes/{PURPOSE}/")
            expect(page.locator("#dashboard-source")).to_contain_text("SIMULATED DATA")

            # The map: one shape per area, coloured by its level, and the level in words beside it.
            shapes = page.locator("path.dashboard-area")
            expect(shapes).to_have_count(len(areas))
            expect(page.locator("path.dashboard-area[data-level=none]")).to_have_count(0)
            for pk, name in areas:
                button = page.locator(f'#dashboard-areas button[data-area="{pk}"]')
                expect(button).to_contain_text(f"{name}: {LEVELS[language][level_now[pk]]}")
                expect(page.locator(".leaflet-tooltip", has_text=name)).to_contain_text(LEVELS[language][level_now[pk]])
            assert sorted(shapes.nth(i).get_attribute("data-level") for i in range(len(areas))) == sorted(
                level_now.values()
            )

            # The chart: three series with their legend; the counts are the API's, withheld ones a gap.
            drawn = chart(page)
            assert drawn["legend"] == [label for label, _ in drawn["series"]] == words["series"]
            count_series, usual_series, forecast_series = (data for _, data in drawn["series"])
            assert count_series[: len(expected_counts)] == expected_counts
            assert all(count_series[index] is None for index in gaps)
            assert any(value is not None for value in usual_series) and any(v is not None for v in forecast_series)
            assert len(drawn["labels"]) > len(expected_counts)  # the forecast's quarter hours follow
            assert page.locator("#dashboard-chart").bounding_box()["height"] > 200

            page.screenshot(path=str(ARTEFACTS / f"dashboard-{language}.png"), full_page=True)

            # The table holds the same numbers, withheld cells in words.
            page.locator("#dashboard-table summary").click()
            rows = page.locator("#dashboard-table tbody tr")
            expect(rows).to_have_count(len(drawn["labels"]))
            expect(page.locator("#dashboard-table tbody")).to_contain_text(words["withheld"])

            # Another area: its chart and heading. Stratumseind's forecast adds the demo's coming event.
            assert areas[1][1] == "Stratumseind"
            page.locator("#dashboard-table summary").click()  # closed again, for the screenshot
            page.locator(f'#dashboard-areas button[data-area="{areas[1][0]}"]').click()
            expect(page.locator("#dashboard-chart-heading")).to_contain_text(areas[1][1])
            expect(page.locator(f'#dashboard-areas button[data-area="{areas[1][0]}"]')).to_have_attribute(
                "aria-pressed", "true"
            )
            expect(page.locator("#dashboard-chart-note")).to_have_text(words["events"])
            page.screenshot(path=str(ARTEFACTS / f"dashboard-{language}-stratumseind.png"), full_page=True)

        assert errors == [], errors
        calls = [request for request in requests if "/api/v1/indicators/" in request.url]
        assert sorted(urlsplit(request.url).path.split("/")[4] for request in calls) == [
            "busyness",
            "count",
            "crowding-level",
            "forecast",
        ]
        for request in calls:
            assert request.headers["x-purpose"] == PURPOSE and "cookie" not in request.headers, request.headers
            query = parse_qs(urlsplit(request.url).query)
            assert query["dataset"] == [str(passages.pk)] and query["bucket"] == ["15m"]
            assert sorted(map(int, query["area"])) == sorted(pk for pk, _ in areas)
        forecast = next(request for request in calls if "/forecast/" in request.url)
        calendar = Dataset.objects.get(title="Event calendar Voorbeeldstad")
        assert parse_qs(urlsplit(forecast.url).query)["events"] == [str(calendar.pk)]
        # Nothing was asked of another host.
        assert all(request.url.startswith(live_server.url) for request in requests)

    # Every read is logged: four per page, anonymous, allowed, under the purpose.
    logged = AccessEvent.objects.exclude(pk__in=logged_before)
    assert len(logged) == 8 and {event.purpose_code for event in logged} == {PURPOSE}
    assert {(event.actor_kind, event.decision) for event in logged} == {("anonymous", "allowed")}


def test_a_refusal_or_an_unreachable_platform_is_said_on_the_page(live_server, demo):
    with browser_page("en-GB", viewport=VIEWPORT) as page:
        # The API answers, but refuses: a withdrawn purpose instead of the page's.
        page.route(
            "**/api/v1/indicators/**",
            lambda route: route.continue_(headers={**route.request.headers, "x-purpose": "vbs-wifi-tracking-pilot"}),
        )
        page.goto(f"{live_server.url}/dashboard/")
        expect(page.locator("#dashboard")).to_have_attribute("data-state", "error", timeout=30_000)
        status = page.locator("#dashboard-status")
        expect(status).to_have_attribute("role", "alert")
        expect(status).to_contain_text("The figures could not be loaded:")
        expect(status).to_contain_text("(HTTP 403)")
        expect(status).to_contain_text("withdrawn")
        expect(page.locator("path.dashboard-area")).to_have_count(2)  # the map is still there
        expect(page.locator("#dashboard-chart-section")).to_be_hidden()
        page.screenshot(path=str(ARTEFACTS / "dashboard-refused.png"), full_page=True)

    with browser_page("nl-NL", viewport=VIEWPORT) as page:
        problem = {"title": "Service Unavailable", "status": 503, "detail": "Down for maintenance."}
        page.route(
            "**/api/v1/indicators/**",
            lambda route: route.fulfill(status=503, content_type="application/problem+json", body=json.dumps(problem)),
        )
        page.goto(f"{live_server.url}/dashboard/")
        expect(page.locator("#dashboard")).to_have_attribute("data-state", "error", timeout=30_000)
        expect(page.locator("#dashboard-status")).to_have_text(
            "De cijfers konden niet worden geladen: Down for maintenance. (HTTP 503)"
        )

    with browser_page("en-GB", viewport=VIEWPORT) as page:
        page.route("**/api/v1/indicators/**", lambda route: route.abort())
        page.goto(f"{live_server.url}/dashboard/")
        expect(page.locator("#dashboard-status")).to_have_text(
            "The figures could not be loaded: the platform did not answer.", timeout=30_000
        )


def _open_empty_dashboard(settings) -> str:
    """A second transparency purpose whose open dataset holds no records yet; the page reads under it."""
    city = Organisation.objects.get(slug="gemeente-voorbeeldstad")

    def person(role):
        user = get_user_model().objects.get(username=f"{city.slug}-{role.replace('_', '-')}")
        return Caller(user=user, roles={city.pk: role})

    purpose = purposes_services.purpose_create(
        caller=person(Role.DATA_STEWARD),
        holder=city,
        code="vbs-open-dashboard-new-street",
        title="Open dashboard of a street just equipped",
        decision="None by the city: how busy the street is.",
        category=PurposeCategory.TRANSPARENCY,
        legal_basis="e",
        national_basis="Wet open overheid art. 3.1.",
        dpia_required=False,
        allowed_levels=[AccessLevel.AGGREGATE],
        min_bucket_minutes=15,
        k_threshold=10,
    )
    purpose = purposes_services.purpose_approve(caller=person(Role.PRIVACY_OFFICER), purpose=purpose)
    passages = Dataset.objects.get(title="Centre passages (simulated)")
    empty = datasets_services.dataset_register(
        caller=person(Role.DATA_STEWARD),
        owner=city,
        schema_version=SchemaVersion.objects.filter(schema__code="crowd-count-line").latest("published_at"),
        sensors=list(passages.sensors.all()),
        areas=list(passages.areas.all()),
        collection_purposes=[purpose],
        title="New street passages",
        description="Counts from next week.",
        contact_point="crowd@voorbeeldstad.example",
        access=AccessClassification.OPEN_AGGREGATE,
        status=DatasetStatus.ACTIVE,
    )
    purposes_services.grant_create(
        caller=person(Role.DATA_STEWARD), dataset=empty, purpose=purpose, grantee=None, level=AccessLevel.AGGREGATE
    )
    settings.DASHBOARD_PURPOSE = purpose.code
    return purpose.code


def test_no_data_and_no_dataset_are_said_on_the_page(live_server, demo, settings):
    _open_empty_dashboard(settings)
    with browser_page("en-GB", viewport=VIEWPORT) as page:
        page.goto(f"{live_server.url}/dashboard/")
        expect(page.locator("#dashboard")).to_have_attribute("data-state", "empty", timeout=30_000)
        status = page.locator("#dashboard-status")
        expect(status).to_have_text("There are no figures for the last 24 hours in any area.")
        expect(page.locator("path.dashboard-area[data-level=none]")).to_have_count(2)
        expect(page.locator("#dashboard-areas")).to_contain_text("no figures in the last 24 hours")
        page.screenshot(path=str(ARTEFACTS / "dashboard-no-data.png"), full_page=True)

    settings.DASHBOARD_PURPOSE = "melbourne-open-statistics"  # hourly totals per sensor: no crowding level
    with browser_page("en-GB", viewport=VIEWPORT) as page:
        page.goto(f"{live_server.url}/dashboard/")
        expect(page.locator("#dashboard-unavailable")).to_contain_text("no dataset of counts per area is open")
        expect(page.locator("#dashboard")).to_have_count(0)

    settings.DASHBOARD_PURPOSE = "vbs-wifi-tracking-pilot"  # withdrawn
    with browser_page("nl-NL", viewport=VIEWPORT) as page:
        page.goto(f"{live_server.url}/dashboard/")
        expect(page.locator("#dashboard-unavailable")).to_contain_text("vbs-wifi-tracking-pilot")
