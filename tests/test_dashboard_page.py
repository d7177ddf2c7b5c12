"""The open dashboard's page (without a browser: tests/e2e/test_dashboard_browser.py drives one): what it names,
what it hands its script, and what it says when its purpose opens nothing to show."""

import json
import re
from html import unescape
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.models import Organisation, Role
from accounts.selectors import Caller
from datasets.models import Dataset
from purposes import services
from purposes.models import Grant, Purpose
from web.selectors import dashboard_sources

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("demo", stdout=StringIO())


class Page:
    """Just enough of a page to read: an element's opening tag's attributes and its text, by id."""

    def __init__(self, response):
        assert response.status_code == 200
        self.text = response.content.decode()

    def attrs(self, element_id):
        tag = re.search(rf'<[a-z]+ id="{element_id}"([^>]*)>', self.text, flags=re.S)
        return {name: unescape(value) for name, value in re.findall(r'([a-z-]+)="([^"]*)"', tag.group(1))}

    def words(self, element_id):
        inner = re.search(rf'id="{element_id}"[^>]*>(.*?)</(p|script)>', self.text, flags=re.S).group(1)
        return " ".join(unescape(re.sub(r"<[^>]+>", "", inner)).split())

    def json(self, element_id):
        return json.loads(
            re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', self.text).group(1)
        )

    def has(self, element_id):
        return f'id="{element_id}"' in self.text


def steward():
    city = Organisation.objects.get(slug="gemeente-voorbeeldstad")
    user = get_user_model().objects.get(username="gemeente-voorbeeldstad-data-steward")
    return Caller(user=user, roles={city.pk: Role.DATA_STEWARD})


def test_the_page_names_its_purpose_and_hands_the_script_the_areas_and_its_words(client, demo):
    passages = Dataset.objects.get(title="Centre passages (simulated)")
    calendar = Dataset.objects.get(title="Event calendar Voorbeeldstad")
    sources = dashboard_sources(purpose_code="vbs-open-dashboard")
    assert (sources.purpose.code, sources.counts, sources.calendar) == ("vbs-open-dashboard", passages, calendar)

    page = Page(client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="nl"))
    board = page.attrs("dashboard")
    assert (board["data-dataset"], board["data-calendar"]) == (str(passages.pk), str(calendar.pk))
    assert board["data-purpose"] == "vbs-open-dashboard"
    assert board["data-values-url"] == "/api/v1/indicators/CODE/values/"
    notice = page.words("dashboard-purpose")
    assert "Deze cijfers worden gelezen onder doel vbs-open-dashboard: Open dashboard of how busy" in notice
    assert "Elke lezing wordt vastgelegd." in notice
    assert 'href="/api/v1/public/purposes/vbs-open-dashboard/"' in page.text
    areas = page.json("dashboard-areas-data")
    assert [(area["id"], area["name"]) for area in areas] == list(
        passages.areas.order_by("name").values_list("pk", "name")
    )
    assert all(area["geometry"]["type"] == "Polygon" for area in areas)
    words = page.json("dashboard-strings")
    assert words["levels"]["red"] == "rood: te vol" and words["busyness"]["busier"] == "drukker dan normaal"
    scripts = re.findall(r"<script([^>]*)>", page.text)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)  # no inline script


def test_the_page_says_when_its_purpose_opens_nothing_to_show(client, demo, settings):
    for grant in Grant.objects.filter(purpose__code="vbs-open-dashboard", dataset__title__startswith="Centre"):
        services.grant_revoke(caller=steward(), grant=grant, reason="The counters are being replaced.")
    assert dashboard_sources(purpose_code="vbs-open-dashboard").counts is None
    page = Page(client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "no dataset of counts per area is open to anyone" in page.words("dashboard-unavailable")
    assert not page.has("dashboard") and "dashboard.js" not in page.text

    # Melbourne's open hourly counts per sensor give no crowding level: not a dashboard dataset either.
    settings.DASHBOARD_PURPOSE = "melbourne-open-statistics"
    assert dashboard_sources(purpose_code="melbourne-open-statistics").counts is None
    assert b"no dataset of counts per area" in client.get("/dashboard/").content

    withdrawn = Purpose.objects.get(code="vbs-wifi-tracking-pilot")
    settings.DASHBOARD_PURPOSE = withdrawn.code
    assert dashboard_sources(purpose_code=withdrawn.code) is None
    page = Page(client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="nl"))
    assert page.words("dashboard-unavailable") == (
        "Het dashboard is niet beschikbaar: het doel waaronder het leest, vbs-wifi-tracking-pilot, is niet van kracht."
    )
