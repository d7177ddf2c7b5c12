"""The register's sensor page without a browser (tests/e2e drives one): the purposes in force, how often its data
was asked for per month and purpose, and where it stood over time, in English and Dutch."""

import re
from datetime import datetime, timedelta
from html import unescape
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone

from datasets.models import Dataset
from purposes import access_log
from purposes.models import Purpose, PurposeStatus
from purposes.selectors import sensor_access_stats
from sensors.models import Sensor

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("demo", stdout=StringIO())


def words(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def section(text: str, element_id: str) -> str:
    """The element with this id (a list or a table), up to its closing tag."""
    match = re.search(rf'<(ol|ul|table) [^>]*id="{element_id}"[^>]*>(.*?)</\1>', text, flags=re.S)
    assert match, f"no #{element_id}"
    return match.group(2)


def page(client, sensor, language="en") -> str:
    response = client.get(f"/register/sensors/{sensor.pk}/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def passages_sensor():
    passages = Dataset.objects.get(title="Centre passages (simulated)")
    return passages, passages.sensors.filter(status="active", visibility="public").order_by("pk").first()


def test_only_purposes_in_force_are_listed(client, demo):
    _, sensor = passages_sensor()
    listed = re.findall(r"<strong>(.*?)</strong>", section(page(client, sensor), "purposes"))
    assert len(listed) >= 2
    withdrawn, expired, *kept = Purpose.objects.filter(title__in=[unescape(title) for title in listed]).order_by("pk")
    Purpose.objects.filter(pk=withdrawn.pk).update(status=PurposeStatus.WITHDRAWN)
    yesterday = timezone.now() - timedelta(days=1)
    Purpose.objects.filter(pk=expired.pk).update(valid_from=yesterday - timedelta(days=1), valid_until=yesterday)

    now = words(section(page(client, sensor), "purposes"))
    assert withdrawn.title not in now and expired.title not in now
    assert all(purpose.title in now for purpose in kept)


def append(monkeypatch, moment, *, datasets, code, decision):
    """An access event in the log as the guard writes it, at `moment`."""
    monkeypatch.setattr(access_log, "timezone", SimpleNamespace(now=lambda: moment))
    return access_log.access_event_append(
        content=access_log.EventContent(
            actor_kind="anonymous", actor_name="", organisation_id=None, organisation_slug="",
            purpose_code=code, purpose_holder_id=None, dataset_ids=tuple(d.pk for d in datasets),
            dataset_owner_ids={d.pk: d.owner_id for d in datasets}, endpoint="datasets-api:indicator-values",
            params={}, decision=decision, reason="" if decision == "allowed" else "purpose_not_in_force",
            status_code=200 if decision == "allowed" else 403,
        )
    )  # fmt: skip


@pytest.fixture
def accesses(demo, monkeypatch):
    """Accesses over four months: to a dataset holding the sensor's data, to one that does not, and too long ago."""
    passages, sensor = passages_sensor()
    other = Dataset.objects.exclude(sensors=sensor).first()
    public = Purpose.objects.get(code="vbs-open-dashboard").code
    now = timezone.now()
    # this month (a minute ago: the 15th may be yet to come), then mid-month 1 to 13 months back
    month = [now - timedelta(minutes=1)] + [now.replace(day=15) - timedelta(days=30 * back) for back in range(1, 14)]
    append(monkeypatch, month[2], datasets=[passages], code=public, decision="allowed")
    append(monkeypatch, month[2], datasets=[passages], code=public, decision="allowed")
    append(monkeypatch, month[2], datasets=[passages], code="someone-elses-draft", decision="refused")
    append(monkeypatch, month[0], datasets=[passages], code=public, decision="refused")
    append(monkeypatch, month[1], datasets=[passages, other], code=public, decision="allowed")
    append(monkeypatch, month[1], datasets=[other], code=public, decision="allowed")  # not its data
    append(monkeypatch, month[13], datasets=[passages], code=public, decision="allowed")  # over a year ago
    draft = Dataset.objects.create(
        owner=passages.owner,
        schema_version=passages.schema_version,
        title="Not yet published",
        status="draft",
        access=passages.access,
    )
    draft.sensors.add(sensor)
    append(monkeypatch, month[0], datasets=[draft], code=public, decision="allowed")  # a draft's: nobody's business
    monkeypatch.undo()
    return sensor, public, [m.astimezone(timezone.get_current_timezone()).strftime("%Y-%m") for m in month]


def test_accesses_per_month_and_purpose_allowed_and_refused(accesses):
    sensor, public, month = accesses
    rows = sensor_access_stats(sensor_id=sensor.pk)
    assert rows == [
        {"month": month[2], "purpose": public, "allowed": 2, "refused": 0},
        {"month": month[2], "purpose": "(not public)", "allowed": 0, "refused": 1},
        {"month": month[1], "purpose": public, "allowed": 1, "refused": 0},
        {"month": month[0], "purpose": public, "allowed": 0, "refused": 1},
    ]


def test_the_page_shows_the_accesses_in_month_order_without_a_code_that_is_not_public(client, accesses):
    sensor, public, month = accesses
    text = page(client, sensor)
    table = section(text, "access-stats")
    assert re.findall(r'<tr data-month="([0-9-]+)">', table) == [month[2], month[2], month[1], month[0]]
    cells = [words(row) for row in re.findall(r"<tr data-month[^>]*>(.*?)</tr>", table, flags=re.S)]
    first = datetime.strptime(month[2], "%Y-%m").strftime("%B %Y")
    title = Purpose.objects.get(code=public).title
    assert cells[0] == f"{first} {title} ({public}) 2 0"
    assert cells[1] == f"{first} a purpose that is not public 0 1"
    assert cells[3].endswith(f"{title} ({public}) 0 1")
    assert "someone-elses-draft" not in text
    assert "counted per dataset, not per sensor" in words(text)


def test_the_page_says_it_in_dutch(client, accesses):
    sensor, public, month = accesses
    text = page(client, sensor, "nl")
    table = section(text, "access-stats")
    assert "Toegestaan" in text and "Geweigerd" in text
    assert "een doel dat niet openbaar is" in words(table)
    dutch_months = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
                    "oktober", "november", "december"]  # fmt: skip
    year, number = month[2].split("-")
    assert f"{dutch_months[int(number) - 1]} {year}" in words(table)
    assert "We tellen per dataset, niet per sensor" in words(text)


def test_a_sensor_nobody_asked_about_says_so(client, demo):
    _, sensor = passages_sensor()
    assert 'id="access-stats-none"' in page(client, sensor)


def test_placements_in_order_in_words(client, demo):
    moved = Sensor.objects.get(reference="vbs-station-thermal-01")
    listed = [words(item) for item in re.findall(r"<li>(.*?)</li>", section(page(client, moved), "placements"), re.S)]
    assert listed == [
        "From 2025-03-01 to 2026-01-12: at the edge of Markt, counting the people going in and out.",
        "Since 2026-01-12: at the edge of Stationsplein, counting the people going in and out.",
    ]
    dutch = [
        words(item) for item in re.findall(r"<li>(.*?)</li>", section(page(client, moved, "nl"), "placements"), re.S)
    ]
    assert (
        dutch[0]
        == "Van 2025-03-01 tot 2026-01-12: aan de rand van Markt, telt de mensen die het gebied in en uit gaan."
    )


def test_a_restricted_sensor_has_no_page(client, demo):
    restricted = Sensor.objects.get(reference="vbs-stratumseind-cam-02")
    assert client.get(f"/register/sensors/{restricted.pk}/").status_code == 404


# The register's filters: an invalid one says so at its field (it is not an empty result) -------------------------


def register(client, query: str, language="en") -> str:
    response = client.get(f"/register/?{query}", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def field_error(text: str, name: str) -> str | None:
    """The error the form shows at the filter `name`: the text of the element its control's aria-describedby names
    (the control marked aria-invalid), or None when the control is not marked invalid."""
    control = re.search(rf'<select name="{name}"[^>]*>', text).group(0)
    if 'aria-invalid="true"' not in control:
        return None
    described_by = re.search(r'aria-describedby="([^"]+)"', control).group(1)
    error = re.search(rf'<p class="error" id="{described_by}">(.*?)</p>', text, flags=re.S)
    assert error, f"the {name} filter names #{described_by}, which is not on the page"
    return words(error.group(1))


@pytest.mark.parametrize("area", ["1.5", "abc", "1e3"])
def test_an_area_that_is_no_area_id_is_an_error_at_the_area_filter_not_an_empty_result(client, demo, area):
    text = register(client, f"area={area}")
    assert field_error(text, "area") == "Choose an area from the list."
    assert field_error(text, "type") is None and field_error(text, "organisation") is None
    assert "No sensor matches these filters" not in text and "No sensors match these filters" not in text
    assert "Correct the filter marked above" in words(section(text, "sensor-list"))


def test_an_invalid_filter_is_named_in_dutch(client, demo):
    text = register(client, "area=1.5", "nl")
    assert field_error(text, "area") == "Kies een gebied uit de lijst."
    assert "Geen sensor voldoet aan deze filters" not in text
    assert "Verbeter het gemarkeerde filter" in words(section(text, "sensor-list"))


def test_a_valid_filter_that_matches_nothing_still_says_so_without_an_error(client, demo):
    text = register(client, "type=no-such-type")
    assert 'aria-invalid="true"' not in text and '<p class="error"' not in text
    assert "No sensor matches these filters" in text
    assert "No sensors match these filters." in words(section(text, "sensor-list"))
