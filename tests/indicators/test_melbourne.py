"""Checked against real data (issue 11): Melbourne's hourly counts of January 2011 pushed through the API, then the
`count` indicator per hour and per day (Australia/Melbourne), per sensor and per area, compared cell by cell with
sums computed here from the CSV with the standard library alone (csv, datetime, zoneinfo).

The file as published misses one sensor for the whole month (Bourke Street Mall (North): every cell empty) and has
two columns of sensors installed years later (Sandridge Bridge 2019, Birrarung Marr 2014), whose counts the API
refuses. So that days with missing hours are checked too, EMPTIED lists a few cells this test empties before the
push (as the city's later files have offline hours); the push and the sums read the same text.
"""

import csv
from collections import defaultdict
from datetime import date, datetime, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from rest_framework.test import APIClient

from accounts.models import OrganisationKind, Role
from datasets import melbourne
from purposes.models import AccessLevel, PurposeCategory
from sensors.models import Sensor
from tests.datasets.conftest import make_dataset
from tests.factories import OrganisationFactory, api_key_for
from tests.purposes.conftest import grant, make_purpose

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
COUNTS = ROOT / "datasets" / "demo_data" / "melbourne-hourly-counts-2011-01.csv"
REGISTER = ROOT / "sensors" / "demo_data" / "melbourne-sensor-locations.csv"
MELBOURNE = ZoneInfo("Australia/Melbourne")
K = 5
# The wide file names one sensor otherwise than the register does.
REGISTER_NAME = {"Flinders St Station Underpass": "Flinders Street Station Underpass"}
# (column, day, hours) emptied before the push.
EMPTIED = [
    ("State Library", 5, range(10, 14)),  # four hours of one morning: the day has 20 of 24 hours
    ("Flinders St Station Underpass", 20, range(24)),  # a whole day: its area has one of its two sensors
    ("Webb Bridge", 12, range(3, 4)),  # one night hour
]
# Areas and the columns of the sensors placed in them since their installation. Birrarung Marr was installed in
# 2014: its counts of 2011 are refused and it misses no hour of Flinders Street's. Other sensors are in no area.
AREAS = {
    "Swanston Street": ["State Library", "Melbourne Central", "Town Hall (West)"],
    "Flinders Street": ["Princes Bridge", "Flinders St Station Underpass", "Birrarung Marr"],
    "Docklands": ["New Quay", "Waterfront City", "Victoria Point", "Webb Bridge"],
}
MONTH = {"from": "2011-01-01T00:00:00+11:00", "to": "2011-02-01T00:00:00+11:00", "tz": "Australia/Melbourne"}


def emptied_text() -> str:
    rows = list(csv.reader(StringIO(COUNTS.read_text(encoding="utf-8"))))
    header = rows[0]
    for column, day, hours in EMPTIED:
        index = header.index(column)
        for row in rows[1:]:
            if row and row[0] == f"{day}-Jan-11" and int(row[1]) in hours:
                assert row[index].strip(), (column, day, row[1])  # a real count is emptied, not a gap already
                row[index] = ""
    out = StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


# The expected values: the standard library only -----------------------------------------------------------------


def installed_on() -> dict[str, date]:
    """Register name -> installation date, from the register's CSV."""
    with REGISTER.open(encoding="utf-8", newline="") as stream:
        return {
            row["sensor_description"]: datetime.strptime(row["installation_date"], "%Y/%m/%d").date()
            for row in csv.DictReader(stream)
        }


def hourly_counts(text: str) -> dict[str, dict[datetime, int]]:
    """Column -> {local start of the hour: count}, for the cells the platform can hold: not empty, and the sensor
    installed by then (the file's dates are d-Mon-yy, its hours Melbourne's clock; January has no clock change)."""
    installed = installed_on()
    rows = csv.reader(StringIO(text))
    header = next(rows)
    found: dict[str, dict[datetime, int]] = defaultdict(dict)
    for row in rows:
        if not row or not row[0]:
            continue
        day = datetime.strptime(row[0], "%d-%b-%y").date()
        start = datetime(day.year, day.month, day.day, int(row[1]), tzinfo=MELBOURNE)
        for column, cell in zip(header[2:], row[2:], strict=True):
            if cell.strip() and installed[REGISTER_NAME.get(column, column)] <= day:
                found[column][start] = int(cell)
    return found


def expected_cells(counts: dict[str, dict[datetime, int]], columns: list[str], bucket: str) -> dict[datetime, dict]:
    """Cell start -> {value, observations, completeness} over these columns (one sensor, or an area's sensors),
    for every hour or day of January 2011 on Melbourne's clock; value None where no column has a count."""
    first = datetime(2011, 1, 1, tzinfo=MELBOURNE)
    installed = installed_on()
    cells = {}
    if bucket == "1h":
        starts = [first + timedelta(hours=h) for h in range(31 * 24)]
    else:
        starts = [first + timedelta(days=d) for d in range(31)]
    for start in starts:
        hours = [start + timedelta(hours=h) for h in range(1 if bucket == "1h" else 24)]
        present = [counts[c][hour] for c in columns for hour in hours if hour in counts[c]]
        expected = [c for c in columns if installed[REGISTER_NAME.get(c, c)] <= start.date()]
        cells[start] = {
            "value": sum(present) if present else None,
            "observations": len(present),
            "completeness": round(len(present) / (len(hours) * len(expected)), 4) if present else 0.0,
        }
    return cells


# The platform --------------------------------------------------------------------------------------------------


def rectangle_around(sensors) -> dict:
    west, east = min(s.longitude for s in sensors) - 0.001, max(s.longitude for s in sensors) + 0.001
    south, north = min(s.latitude for s in sensors) - 0.001, max(s.latitude for s in sensors) + 0.001
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def melbourne_platform(text: str, areas: dict[str, list[str]]):
    """The city registers its sensors from the register's CSV, its areas and placements, a dataset of hourly counts
    fed by every sensor, and an open purpose with an aggregate grant (k = K, hourly at the finest); then pushes the
    file's records through the API (partial: the not-yet-installed sensors' counts are refused)."""
    city = OrganisationFactory(kind=OrganisationKind.MUNICIPALITY, slug="city-of-melbourne", name="City of Melbourne")
    steward, integrator = APIClient(), APIClient()
    steward.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(city, role=Role.DATA_STEWARD)[1]}")
    integrator.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(city, role=Role.INTEGRATOR)[1]}")
    imported = steward.generic(
        "POST",
        "/api/v1/sensors/import/?mapping=melbourne&controller=city-of-melbourne&sensor_type=counting-camera",
        REGISTER.read_bytes(),
        content_type="text/csv",
    )
    assert imported.status_code == 201, imported.content[:1000]
    by_name = {sensor.name: sensor for sensor in Sensor.objects.filter(controller=city)}

    def sensor(column):
        return by_name[REGISTER_NAME.get(column, column)]

    area_ids = {}
    for name, columns in areas.items():
        placed = [sensor(column) for column in columns]
        answer = steward.post(
            "/api/v1/areas/",
            {"name": name, "area_type": "walkway", "geometry": rectangle_around(placed)},
            format="json",
        )
        assert answer.status_code == 201, answer.content[:1000]
        area_ids[name] = answer.json()["id"]
        for one in placed:
            put = steward.put(
                f"/api/v1/sensors/{one.pk}/placements/", {"placements": [{"area": area_ids[name]}]}, format="json"
            )
            assert put.status_code == 200, put.content[:1000]

    dataset = make_dataset(city, code="hourly-pedestrian-count", sensors=list(by_name.values()))
    purpose = make_purpose(
        city, "melbourne-open-counts", levels=("aggregate",), category=PurposeCategory.RESEARCH, k_threshold=K
    )
    dataset.collection_purposes.add(purpose)
    grant(dataset, purpose, None, AccessLevel.AGGREGATE, k_threshold=K, min_bucket_minutes=60)

    register = melbourne.Register((s.reference, s.name) for s in by_name.values())
    records = [record for _, record in melbourne.records(csv.reader(StringIO(text)), register, melbourne.Report())]
    created = refused = 0
    for start in range(0, len(records), 5000):
        answer = integrator.post(
            f"/api/v1/datasets/{dataset.pk}/records/?partial=true",
            orjson.dumps({"records": records[start : start + 5000]}),
            content_type="application/json",
        )
        assert answer.status_code in (200, 201), answer.content[:1000]
        created, refused = created + answer.json()["created"], refused + answer.json()["rejected"]
    return {"dataset": dataset, "purpose": purpose, "areas": area_ids, "sensor": sensor, "sent": (created, refused)}


def values(platform, bucket: str, **query) -> dict:
    """Read as anyone may: anonymous, under the open purpose."""
    answer = APIClient().get(
        "/api/v1/indicators/count/values/",
        {"dataset": platform["dataset"].pk, "bucket": bucket, **MONTH, **query},
        HTTP_X_PURPOSE=platform["purpose"].code,
    )
    assert answer.status_code == 200, answer.content[:2000]
    return answer.json()


def compare(cells: list[dict], expected: dict[datetime, dict], what: str) -> int:
    """Every cell against the expected one; returns how many were suppressed (and checks each of those)."""
    assert [datetime.fromisoformat(cell["start"]) for cell in cells] == list(expected), what
    suppressed = 0
    for cell in cells:
        start = datetime.fromisoformat(cell["start"])
        want = expected[start]
        where = f"{what} {cell['start']}"
        assert cell["observations"] == want["observations"], where
        assert cell["completeness"] == want["completeness"], where
        if want["value"] is None:
            assert cell["value"] is None and cell["flags"] == ["no_data"], where
        elif 0 < want["value"] < K:
            # Fewer than k persons: withheld, and nothing of it shows.
            assert cell["value"] is None and cell["contributions"] is None, where
            assert cell["level"] is None and not cell["details"], where
            assert "suppressed" in cell["flags"], where
            suppressed += 1
        else:
            assert (cell["value"], cell["contributions"]) == (want["value"], want["value"]), where
            assert "suppressed" not in cell["flags"], where
        incomplete = want["value"] is not None and want["completeness"] < 1
        assert ("incomplete" in cell["flags"]) == incomplete, where
    return suppressed


def test_hourly_and_daily_counts_per_sensor_and_area_equal_the_csv_sums():
    text = emptied_text()
    platform = melbourne_platform(text, AREAS)
    counts = hourly_counts(text)
    # Stored: every count the CSV has of an installed sensor; refused: the not-yet-installed sensors' counts.
    rows = list(csv.DictReader(StringIO(text)))
    late = sum(1 for row in rows if row["Date"] for c in ("Sandridge Bridge", "Birrarung Marr") if row[c].strip())
    assert platform["sent"] == (sum(len(hours) for hours in counts.values()), late) and late > 0
    columns = list(rows[0])[2:]

    sensors = {platform["sensor"](column).pk: column for column in columns}
    checked = {"1h": 0, "1d": 0}
    suppressed = 0
    for bucket in ("1h", "1d"):
        body = values(platform, bucket, sensor=list(sensors))
        assert (body["tz"], body["privacy"]["k"]) == ("Australia/Melbourne", K)
        by_sensor = defaultdict(list)
        for cell in body["results"]:
            by_sensor[cell["sensor"]].append(cell)
        assert set(by_sensor) == set(sensors)
        found = 0
        for pk, column in sensors.items():
            found += compare(by_sensor[pk], expected_cells(counts, [column], bucket), f"{column} {bucket}")
            checked[bucket] += len(by_sensor[pk])
        assert body["privacy"]["suppressed"] == found
        suppressed += found

        body = values(platform, bucket)  # every area of the dataset
        by_area = defaultdict(list)
        for cell in body["results"]:
            by_area[cell["area"]].append(cell)
        assert set(by_area) == set(platform["areas"].values())
        found = 0
        for name, columns_in in AREAS.items():
            found += compare(by_area[platform["areas"][name]], expected_cells(counts, columns_in, bucket), name)
        assert body["privacy"]["suppressed"] == found
        suppressed += found

    assert checked == {"1h": len(sensors) * 744, "1d": len(sensors) * 31}
    # The real file has small night counts (Webb Bridge, Waterfront City): some cells are withheld, most are not.
    assert 0 < suppressed < checked["1h"] // 10
    # The emptied cells show: a day of 20 hours, an hour and a day of an area with one sensor of two.
    state_library = values(platform, "1d", sensor=platform["sensor"]("State Library").pk)["results"][4]
    assert (state_library["observations"], state_library["completeness"], state_library["flags"]) == (
        20,
        round(20 / 24, 4),
        ["incomplete"],
    )


def test_an_area_cell_without_one_of_its_sensors_is_incomplete_even_when_that_sensor_is_silent_all_range():
    text = emptied_text()
    lines = text.splitlines(keepends=True)
    days = ("1-Jan-11", "2-Jan-11", "20-Jan-11")
    part = "".join([lines[0], *(line for line in lines[1:] if line.split(",")[0] in days)])
    areas = {
        # The real file: Bourke Street Mall (North) counted nothing in January 2011; its neighbour did.
        "Bourke Street Mall": ["Bourke Street Mall (North)", "Bourke Street Mall (South)"],
        "Flinders Street": AREAS["Flinders Street"],
    }
    platform = melbourne_platform(part, areas)
    counts = hourly_counts(part)
    two_days = {"from": "2011-01-01T00:00:00+11:00", "to": "2011-01-03T00:00:00+11:00"}
    mall = values(platform, "1h", area=platform["areas"]["Bourke Street Mall"], **two_days)["results"]
    south = counts["Bourke Street Mall (South)"]
    assert [cell["value"] for cell in mall] == [south[datetime.fromisoformat(cell["start"])] for cell in mall]
    assert all(cell["completeness"] == 0.5 and "incomplete" in cell["flags"] for cell in mall)
    # The same when the silent sensor reports on other days, but not in the range asked for.
    day = {"from": "2011-01-20T00:00:00+11:00", "to": "2011-01-21T00:00:00+11:00"}
    flinders = values(platform, "1d", area=platform["areas"]["Flinders Street"], **day)["results"]
    assert (flinders[0]["completeness"], flinders[0]["flags"]) == (0.5, ["incomplete"])
