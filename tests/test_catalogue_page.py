"""The catalogue for researchers without a browser (tests/e2e/test_catalogue_browser.py drives one): each search
facet and their combinations select the right datasets, odd input never answers 5xx, a dataset's page shows what
is public and nothing else, its example request works as it stands, in English and Dutch."""

import re
import shlex
from datetime import UTC, datetime, timedelta
from html import unescape
from io import StringIO
from urllib.parse import urlsplit

import orjson
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.models import OrganisationKind, Role
from datasets import services as dataset_services
from datasets.models import AccessClassification, Dataset, DatasetStatus, SchemaVersion
from purposes import services as purpose_services
from purposes.models import AccessLevel, PurposeCategory
from sensors.models import GateDirection, Placement, Visibility
from tests.factories import OrganisationFactory
from tests.purposes.conftest import as_role, assess, grant, make_purpose
from tests.robustness.test_properties import fuzz
from tests.security.conftest import make_area, make_sensor

pytestmark = pytest.mark.django_db

# Coordinates nothing else uses: a leak of the restricted sensor's location is found by text.
SECRET_LAT, SECRET_LON = 53.314159, 6.271828


def five_minutes(reference: str, start: datetime, count_in: int, count_out: int) -> dict:
    return {
        "sensor": reference,
        "observed_from": start.isoformat(),
        "observed_to": (start + timedelta(minutes=5)).isoformat(),
        "count_in": count_in,
        "count_out": count_out,
    }


def make_dataset(owner, code="crowd-count-line", sensors=(), areas=(), **extra):
    dataset = Dataset.objects.create(
        owner=owner,
        schema_version=SchemaVersion.objects.get(schema__code=code, version="1.0.0"),
        title=extra.pop("title"),
        description=extra.pop("description", "Test data"),
        contact_point="data@stad.example",
        access=extra.pop("access", AccessClassification.OPEN_AGGREGATE),
        status=extra.pop("status", DatasetStatus.ACTIVE),
        retention_days=36_500,
        **extra,
    )
    dataset.sensors.set(sensors)
    dataset.areas.set(areas)
    return dataset


@pytest.fixture
def catalogue(db):
    """Datasets that differ in each facet, one not in the catalogue, one in draft, and what must not show."""
    city = OrganisationFactory(kind=OrganisationKind.MUNICIPALITY, slug="stad", name="Gemeente Stad")
    police = OrganisationFactory(kind=OrganisationKind.POLICE, slug="politie", name="Politie Stad")
    lab = OrganisationFactory(kind=OrganisationKind.RESEARCH, slug="lab", name="Crowd Lab")
    gate = make_sensor(city, city, "gate-markt", 5.101, 52.101, name="Markt gate")
    secret = make_sensor(
        city,
        city,
        "cam-secret",
        SECRET_LON,
        SECRET_LAT,
        name="Covert camera",
        visibility=Visibility.RESTRICTED,
        restriction_reason="Police tactics.",
    )
    markt = make_area(city, "Marktplein", 5.1, 52.1)
    bureau = make_area(police, "Politiebureau terrein", 5.2, 52.2)  # the police's: not the city's to publish
    station = make_area(lab, "Stationshal", 5.3, 52.3)
    for sensor in (gate, secret):  # before ingest: records count in the area of their sensor's placement
        Placement.objects.create(sensor=sensor, area=markt, direction=GateDirection.ENTERS)
    passages = make_dataset(
        city,
        sensors=[gate, secret],
        areas=[markt, bureau],
        title="Marktplein passages",
        description="People crossing into the market square every five minutes.",
        themes=["SOCI", "JUST"],
        keywords=["nightlife", "crowd safety"],
        update_frequency="5MIN",
        access=AccessClassification.OPEN_AGGREGATE,
    )
    occupancy = make_dataset(
        lab,
        code="area-occupancy",
        areas=[station],
        title="Station occupancy",
        description="How many people stand on the platforms.",
        themes=["TRAN"],
        keywords=["rail"],
        update_frequency="HOURLY",
        access=AccessClassification.SHARED_UNDER_GRANT,
    )
    sound = make_dataset(
        city, code="sound-anomaly", title="Sound levels", description="Decibels at the square.", themes=["ENVI"]
    )
    hidden = make_dataset(city, title="Hidden stakeout counts", access=AccessClassification.RESTRICTED)
    draft = make_dataset(city, title="Draft footfall", status=DatasetStatus.DRAFT)

    research = make_purpose(city, "stad-open-research", levels=("aggregate",), category=PurposeCategory.RESEARCH)
    safety = make_purpose(city, "stad-crowd-safety")
    plans = make_purpose(city, "stad-secret-plans", approve=False)  # a draft: public by no page
    passages.collection_purposes.set([safety, research, plans])
    open_grant = grant(passages, research, None, AccessLevel.AGGREGATE, min_bucket_minutes=60, k_threshold=12)
    patrol = make_purpose(
        police, "politie-patrol-planning", levels=("aggregate",), category=PurposeCategory.PUBLIC_ORDER
    )
    gone = make_purpose(police, "politie-old-operation", levels=("aggregate",), category=PurposeCategory.PUBLIC_ORDER)
    live = grant(
        passages, patrol, police, AccessLevel.AGGREGATE, assess(passages, patrol), min_bucket_minutes=15, area_only=True
    )
    revoked = grant(passages, gone, police, AccessLevel.AGGREGATE, assess(passages, gone))
    purpose_services.grant_revoke(caller=as_role(city, Role.DATA_STEWARD), grant=revoked, reason="Operation over.")

    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    records = [
        five_minutes(reference, start + timedelta(minutes=5 * step), 20 + step % 7, 15 + step % 5)
        for reference in ("gate-markt", "cam-secret")
        for step in range(12 * 30)  # 30 hours
    ]
    dataset_services.records_ingest(
        caller=as_role(city, Role.INTEGRATOR),
        dataset=passages,
        body=orjson.dumps({"records": records}),
        content_type="application/json",
    )
    passages.refresh_from_db()
    return {
        "city": city, "police": police, "lab": lab, "passages": passages, "occupancy": occupancy, "sound": sound,
        "hidden": hidden, "draft": draft, "markt": markt, "bureau": bureau, "station": station, "gate": gate,
        "secret": secret, "open_grant": open_grant, "live": live, "research": research, "safety": safety,
        "patrol": patrol,
    }  # fmt: skip


def found(client, **query) -> list[int]:
    response = client.get("/catalogue/", query)
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'<li class="dataset" data-dataset="(\d+)"', response.content.decode())]


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    body = re.sub(r"<script.*?</script>", " ", response.content.decode(), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["passages", "sound", "occupancy"]),  # by title: Marktplein, Sound, Station
        ({"q": "nightlife"}, ["passages"]),  # a keyword
        ({"q": "PLATFORMS"}, ["occupancy"]),  # the description, whatever the case
        ({"q": "sound"}, ["sound"]),  # the title
        ({"q": "passages  crowd"}, ["passages"]),  # every word, each anywhere
        ({"q": "passages rail"}, []),
        ({"q": "100%_"}, []),  # LIKE's wildcards are text
        ({"q": "["}, []),  # the keywords' JSON is not text to search: its brackets, quotes and commas match nothing
        ({"q": '"'}, []),
        ({"q": ","}, []),
        ({"q": '"nightlife"'}, []),
        ({"q": "safety"}, ["passages"]),  # a word of a keyword of two words
        ({"theme": "SOCI"}, ["passages"]),
        ({"theme": "TRAN"}, ["occupancy"]),
        ({"organisation": "lab"}, ["occupancy"]),
        ({"organisation": "stad"}, ["passages", "sound"]),
        ({"schema": "area-occupancy"}, ["occupancy"]),
        ({"schema": "crowd-count-line"}, ["passages"]),
        ({"area": "markt"}, ["passages"]),
        ({"area": "station"}, ["occupancy"]),
        ({"area": "bureau"}, []),  # the police's area: the city's dataset does not publish it
        ({"theme": "SOCI", "organisation": "stad"}, ["passages"]),
        ({"theme": "ENVI", "organisation": "stad", "q": "decibels"}, ["sound"]),
        ({"theme": "TRAN", "organisation": "stad"}, []),
        ({"schema": "crowd-count-line", "area": "station"}, []),
    ],
)
def test_each_facet_and_their_combinations_select_the_right_datasets(client, catalogue, query, expected):
    if "area" in query:
        query = {**query, "area": catalogue[query["area"]].pk}
    assert found(client, **query) == [catalogue[name].pk for name in expected]


def test_the_facets_offer_only_what_the_catalogue_has(client, catalogue):
    page = client.get("/catalogue/").content.decode()
    areas = re.search(r'<select name="area".*?</select>', page, flags=re.S).group(0)
    assert f'value="{catalogue["markt"].pk}"' in areas and f'value="{catalogue["station"].pk}"' in areas
    assert "Politiebureau" not in page  # another organisation's area, in the city's dataset
    themes = re.findall(r'<option value="([A-Z]+)"', page)
    assert sorted(themes) == ["ENVI", "JUST", "SOCI", "TRAN"]
    assert 'value="politie"' not in page  # publishes nothing


def test_the_result_count_the_empty_state_and_an_unknown_value(client, catalogue):
    assert "3 datasets" in text(client.get("/catalogue/"))
    assert "1 dataset " in text(client.get("/catalogue/", {"q": "nightlife"}))
    empty = text(client.get("/catalogue/", {"q": "zeppelin"}))
    assert "0 datasets" in empty and "No dataset matches this search" in empty
    unknown = text(client.get("/catalogue/", {"theme": "XXXX"}))
    assert "Choose a theme from the list." in unknown and "0 datasets" in unknown


def test_the_list_pages_and_keeps_the_search_in_its_links(client, catalogue, settings):
    city = catalogue["city"]
    for number in range(25):
        make_dataset(city, title=f"Counter {number:02d}", keywords=["paged"], themes=["REGI"])
    first = client.get("/catalogue/", {"q": "paged", "theme": "REGI"}).content.decode()
    assert "25 datasets" in first and len(re.findall(r'class="dataset"', first)) == 20
    following = unescape(re.search(r'<a href="([^"]+)" rel="next"', first).group(1))
    assert "q=paged" in following and "theme=REGI" in following and "page=2" in following
    second = client.get("/catalogue/" + following).content.decode()
    assert len(re.findall(r'class="dataset"', second)) == 5 and 'start="21"' in second
    # A page number past the end, or not a number, shows a page of the list, not an error.
    assert len(found(client, q="paged", page="999999999999999999999999")) == 5
    assert len(found(client, q="paged", page="x")) == 20


# Odd input ---------------------------------------------------------------------------------------

NAMES = st.sampled_from(["q", "theme", "organisation", "schema", "area", "page", "unknown"])
VALUES = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=4000, max_size=6000),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.sampled_from(["", " ", "%", "_", "'", '"', "\\", "SOCI", "soci", "1e9", "-1", "0", "NaN", "\u202e"]),
)


@fuzz(60)
@given(query=st.dictionaries(NAMES, VALUES, max_size=4))
def test_no_search_answers_a_server_error(client, catalogue, query):
    cache.clear()
    response = client.get("/catalogue/", query)
    # A NUL character is refused before any view (api.middleware: 400); everything else is a page.
    assert response.status_code == (400 if any("\x00" in value for value in query.values()) else 200), query


@fuzz(30)
@given(pk=st.integers(min_value=0, max_value=2**90))
def test_a_dataset_page_is_a_page_or_not_found(client, catalogue, pk):
    response = client.get(f"/catalogue/{pk}/")
    expected = 200 if pk in (catalogue["passages"].pk, catalogue["occupancy"].pk, catalogue["sound"].pk) else 404
    assert response.status_code == expected


def test_a_dataset_outside_the_catalogue_is_not_found_and_never_named(client, catalogue):
    for name in ("hidden", "draft"):
        response = client.get(f"/catalogue/{catalogue[name].pk}/")
        assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    for query in ({}, {"q": "stakeout"}, {"q": "Draft"}, {"organisation": "stad"}):
        page = client.get("/catalogue/", query).content.decode()
        assert "Hidden stakeout counts" not in page and "Draft footfall" not in page
        assert not {catalogue["hidden"].pk, catalogue["draft"].pk} & set(found(client, **query))


# A dataset's page --------------------------------------------------------------------------------


def test_the_page_shows_schema_coverage_terms_and_machine_links(client, catalogue):
    passages = catalogue["passages"]
    page = client.get(f"/catalogue/{passages.pk}/")
    words = text(page)
    html = page.content.decode()
    assert "Marktplein passages" in words and "Gemeente Stad" in words
    assert "count_in persons summed" in words and "count_out persons summed" in words
    assert "every five minutes" in words  # the update frequency, in words
    assert 'href="https://creativecommons.org/licenses/by/4.0/"' in html and 'rel="license"' in html
    assert "mailto:data@stad.example" in html
    assert "Population and society, Justice, legal system and public safety" in words
    assert "From the first observation on 2026-03-02 08:00 UTC" in words and "ending 2026-03-03 14:00 UTC" in words
    months = re.search(r'<table class="data" id="coverage-months">.*?</table>', html, flags=re.S).group(0)
    assert "2026-03" in months and ">720<" in months and ">100%<" in months  # 2 × 360 records, every 5 minutes
    assert "Marktplein" in words and "Markt gate" in words and "52.10100" in words
    assert f"/api/v1/public/datasets/{passages.pk}/" in html and "/api/v1/public/catalog/" in html
    assert "/api/v1/schemas/crowd-count-line/versions/1.0.0/" in html
    indicators = re.search(r'<ul id="indicators">.*?</ul>', html, flags=re.S).group(0)
    assert "/api/v1/indicators/count/" in indicators and "sound-level" not in indicators


def test_the_map_gets_the_areas_polygons_and_the_public_sensors(client, catalogue):
    html = client.get(f"/catalogue/{catalogue['passages'].pk}/").content.decode()
    assert 'id="coverage-map"' in html and "web/map.js" in html and "web/catalogue.js" in html
    assert "vendor/world-atlas/land-110m.json" in html  # the base map's fallback land (templatetags/crowdmap)
    areas = orjson.loads(re.search(r'id="coverage-areas-data" type="application/json">(.*?)</script>', html).group(1))
    assert [area["name"] for area in areas] == ["Marktplein"]
    assert areas[0]["geometry"] == catalogue["markt"].geometry
    sensors = orjson.loads(
        re.search(r'id="coverage-sensors-data" type="application/json">(.*?)</script>', html).group(1)
    )
    assert sensors == [{"id": catalogue["gate"].pk, "name": "Markt gate", "lat": 52.101, "lon": 5.101}]


def test_nothing_private_shows_on_a_dataset_page(client, catalogue):
    html = client.get(f"/catalogue/{catalogue['passages'].pk}/").content.decode()
    assert "Covert camera" not in html and "cam-secret" not in html
    assert str(SECRET_LAT)[:6] not in html and str(SECRET_LON)[:5] not in html
    assert "Politiebureau" not in html  # the police's area
    assert "stad-secret-plans" not in html and "secret plans" not in html  # a draft purpose
    assert "politie-old-operation" not in html  # a revoked grant
    assert "Hidden stakeout" not in html


def test_the_uses_list_open_grants_first_with_their_conditions(client, catalogue):
    html = client.get(f"/catalogue/{catalogue['passages'].pk}/").content.decode()
    uses = re.findall(r'<li class="use[^"]*" data-purpose="([^"]+)" data-open="(true|false)"', html)
    assert uses == [
        ("stad-open-research", "true"),
        ("politie-patrol-planning", "false"),
        ("stad-crowd-safety", "false"),
    ]  # the research purpose's own collection adds nothing to its open grant: listed once
    blocks = re.split(r'<li class="use', html)[1:]
    open_words = " ".join(unescape(re.sub(r"<[^>]+>", " ", blocks[0])).split())
    assert "Open to anyone" in open_words and "you need no account" in open_words
    assert "fewer than 12 people" in open_words and "at least 60 minutes" in open_words
    police_words = " ".join(unescape(re.sub(r"<[^>]+>", " ", blocks[1])).split())
    assert "Granted to Politie Stad" in police_words and "Per area only" in police_words
    assert (
        "Authorization: Api-Key <your API key>" in police_words and "X-Purpose: politie-patrol-planning" in police_words
    )


def command_of(html: str, purpose: str) -> str:
    block = re.search(rf'data-purpose="{purpose}".*?<code id="request-\d+"[^>]*>(.*?)</code>', html, flags=re.S)
    return unescape(block.group(1))


def ask(command: str, **headers):
    """The copied command, read as curl would send it, through the test client."""
    words = shlex.split(command)
    assert words[:3] == ["curl", "-s", "--fail-with-body"], words
    url = urlsplit(words[3])
    sent = {words[i + 1].split(": ", 1)[0]: words[i + 1].split(": ", 1)[1] for i, w in enumerate(words) if w == "-H"}
    sent.update(headers)
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in sent.items()}
    return APIClient().get(f"{url.path}?{url.query}", **meta)


def test_the_open_request_works_as_it_stands_and_the_granted_one_with_a_key(client, catalogue, key_client):
    html = client.get(f"/catalogue/{catalogue['passages'].pk}/").content.decode()
    command = command_of(html, "stad-open-research")
    assert command.startswith("curl -s --fail-with-body 'http://testserver/api/v1/aggregates/counts/?")
    assert "X-Purpose: stad-open-research" in command and "Authorization" not in command
    # The last day with data, in hours (the grant's minimum bucket).
    assert "bucket=hour" in command and "from=2026-03-02T14:00:00Z" in command and "to=2026-03-03T14:00:00Z" in command
    answer = ask(command)
    assert answer.status_code == 200, answer.content
    cells = answer.json()["results"]
    assert len(cells) == 24 and {cell["sensor"] for cell in cells} == {catalogue["gate"].pk}
    assert all(cell["count_in"] > 0 for cell in cells)

    granted = command_of(html, "politie-patrol-planning")
    assert "by=area" in granted and "bucket=15m" in granted
    assert ask(granted).status_code == 401  # the placeholder is no key
    police = key_client(catalogue["police"], Role.ANALYST)
    url = urlsplit(shlex.split(granted)[3])
    answer = police.get(f"{url.path}?{url.query}", HTTP_X_PURPOSE="politie-patrol-planning")
    assert answer.status_code == 200, answer.content
    assert {cell["area"] for cell in answer.json()["results"]} == {catalogue["markt"].pk}


def test_a_page_of_a_dataset_without_data_or_uses(client, catalogue):
    words = text(client.get(f"/catalogue/{catalogue['sound'].pk}/"))
    assert "No data has been received yet." in words
    assert "No purpose in force may read this dataset at the moment." in words
    assert "Nobody has asked for its data yet." in words


def test_the_access_statistics_count_the_requests(client, catalogue):
    passages = catalogue["passages"]
    api = APIClient()
    query = {"dataset": passages.pk, "bucket": "hour"}
    assert api.get("/api/v1/aggregates/counts/", query, HTTP_X_PURPOSE="stad-open-research").status_code == 200
    assert (
        api.get(
            "/api/v1/aggregates/counts/", {**query, "bucket": "15m"}, HTTP_X_PURPOSE="stad-open-research"
        ).status_code
        == 403
    )
    html = client.get(f"/catalogue/{passages.pk}/").content.decode()
    table = re.search(r'<table class="data" id="access-stats">.*?</table>', html, flags=re.S).group(0)
    month = timezone.now().strftime("%Y-%m")
    assert re.search(rf"{month}</th><td><code>stad-open-research</code></td><td>1</td><td>1</td>", table), table


def test_both_languages(client, catalogue):
    client.cookies.load({"django_language": "nl"})
    listing = text(client.get("/catalogue/"))
    assert "Datacatalogus" in listing and "3 datasets" in listing and "Alle thema's" in listing
    assert "Bevolking en samenleving" in listing  # the theme, in Dutch
    page = text(client.get(f"/catalogue/{catalogue['passages'].pk}/"))
    assert "Wie mag de data lezen, en hoe" in page and "Open voor iedereen" in page and "elke vijf minuten" in page
    assert 'lang="nl"' in client.get("/catalogue/").content.decode()
    client.cookies.load({"django_language": "en"})
    assert "Who may read it, and how" in text(client.get(f"/catalogue/{catalogue['passages'].pk}/"))


def test_home_and_navigation_link_the_catalogue(client, catalogue):
    home = client.get("/").content.decode()
    assert home.count('href="/catalogue/"') == 2  # the nav and the home page's text
    assert 'href="/catalogue/"' in client.get("/register/").content.decode()


@pytest.fixture
def demo(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("demo", stdout=StringIO())


def test_an_event_calendars_request_is_the_forecast_it_adds_to(client, demo):
    calendar = Dataset.objects.get(title="Event calendar Voorbeeldstad")
    passages = Dataset.objects.get(title="Centre passages (simulated)")
    html = client.get(f"/catalogue/{calendar.pk}/").content.decode()
    command = command_of(html, "vbs-open-dashboard")
    assert f"/api/v1/indicators/forecast/values/?dataset={passages.pk}&events={calendar.pk}&bucket=15m'" in command
    assert "Centre passages (simulated), with the events of this calendar" in text(
        client.get(f"/catalogue/{calendar.pk}/")
    )
    answer = ask(command)
    assert answer.status_code == 200, answer.content
    cells = answer.json()["results"]
    assert cells and any(cell["details"].get("events") for cell in cells)  # the calendar's coming event counts
