"""GET /api/v1/indicators/{code}/values/: every indicator on hand-computed cases, through the API and the guard."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Role
from datasets.models import SchemaVersion
from purposes.models import AccessEvent
from sensors.models import Placement
from tests.datasets.conftest import make_dataset, make_sensor
from tests.datasets.test_bounds import post_json
from tests.factories import OrganisationFactory
from tests.indicators.conftest import MONDAY, VALUES, five_minutes, open_grant
from tests.purposes.conftest import assess, grant, make_purpose

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
# 09:00-10:00 in Amsterdam: +10 in and +5 out every 5 minutes (occupancy +60); then +2 in and +12 out (-60 an hour).
FILL = (MONDAY, MONDAY + HOUR, 10, 5)
EMPTY = (MONDAY + HOUR, MONDAY + 3 * HOUR, 2, 12)


def morning(sensor="gate-1"):
    return five_minutes(sensor, *FILL[:2], *FILL[2:]) + five_minutes(sensor, *EMPTY[:2], *EMPTY[2:])


def hours(start="2026-03-02T09:00:00+01:00", end="2026-03-02T12:00:00+01:00"):
    return {"from": start, "to": end, "bucket": "1h", "tz": "Europe/Amsterdam"}


@pytest.mark.smoke
def test_count_per_area_and_per_sensor_per_local_hour(lab, gates, square):
    lab["send"](morning())
    body = lab["values"]("count", **hours())
    assert (body["indicator"], body["unit"], body["tz"], body["privacy"]["k"]) == (
        "count",
        "persons",
        "Europe/Amsterdam",
        10,
    )
    cells = body["results"]
    assert [c["start"] for c in cells] == [f"2026-03-02T{h}:00:00+01:00" for h in ("09", "10", "11")]
    assert [(c["value"], c["details"]) for c in cells] == [
        (180, {"in": 120, "out": 60}),
        (168, {"in": 24, "out": 144}),
        (168, {"in": 24, "out": 144}),
    ]
    assert all(c["area"] == square.pk and c["observations"] == 12 and c["completeness"] == 1.0 for c in cells)
    by_sensor = lab["values"]("count", sensor=gates[0].pk, **hours())["results"]
    assert [c["value"] for c in by_sensor] == [180, 168, 168] and by_sensor[0]["sensor"] == gates[0].pk


def test_occupancy_is_the_balance_since_the_reset_never_below_zero(lab):
    lab["send"](morning())
    cells = lab["values"]("occupancy", **hours())["results"]
    # 09-10 fills to 60; 10:15 holds 30, 10:30 none; the hour after would be -60: held at zero.
    assert [(c["value"], c["details"]["end"]) for c in cells] == [(60, 60), (30, 0), (0, 0)]
    assert [c["flags"] for c in cells] == [[], [], []]
    fifteen = lab["values"]("occupancy", **{**hours(), "bucket": "15m"})["results"]
    assert [c["value"] for c in fifteen[:6]] == [15, 30, 45, 60, 30, 0]


def test_occupancy_flags_drift_when_a_day_ends_with_people_left(lab):
    lab["send"](five_minutes("gate-1", *FILL[:2], *FILL[2:]))  # they came, the counter never saw them leave
    cells = lab["values"]("occupancy", **hours("2026-03-02T09:00:00+01:00", "2026-03-02T11:00:00+01:00"))["results"]
    assert [c["value"] for c in cells] == [60, 60]
    assert all("drift" in c["flags"] for c in cells)  # 60 left at the 04:00 reset > max(20, 5% of 120)


def test_density_crowding_level_and_level_of_service_from_the_peak(lab, square):
    lab["send"](morning())
    density = lab["values"]("density", **hours())["results"]
    assert [c["value"] for c in density] == [3.0, 1.5, 0.0]  # 60, 30, 0 persons on 20 m²
    assert density[0]["details"] == {"occupancy": 60, "surface_m2": 20.0}
    crowding = lab["values"]("crowding-level", **hours())["results"]
    assert [c["level"] for c in crowding] == ["yellow", "green", "green"]  # 3.0 is still yellow
    service = lab["values"]("level-of-service", **hours())["results"]
    # walkway table (a square uses it): 1/3 m² a person is F; 1/1.5 = 0.667 is E; nobody is A
    assert [(c["level"], c["value"]) for c in service] == [("F", 0.333), ("E", 0.667), ("A", None)]
    assert service[0]["details"]["basis"] == "space"
    square.area_type, square.surface_m2_override = "walkway", 15.0
    square.save()
    moving = lab["values"]("crowding-level", **hours())["results"][0]
    assert (moving["value"], moving["level"], moving["flags"]) == (4.0, "orange", ["unstable"])


def test_flow_per_metre_against_the_limit_with_weidmann_speed(lab, square):
    lab["send"](morning())
    cells = lab["values"]("flow", **hours())["results"]
    assert cells[0]["value"] == 1.5  # 180 persons / 60 min / 2 m
    assert cells[0]["details"]["limit"] == 82 and cells[0]["details"]["ratio"] == round(1.5 / 82, 4)
    assert 1.2 < cells[0]["details"]["expected_speed_ms"] <= 1.34  # a thin crowd walks near free speed
    square.effective_width_m = 0.02
    square.save()
    crowded = lab["values"]("flow", **hours())["results"][0]
    assert crowded["value"] == 150.0 and "over_limit" in crowded["flags"]
    assert crowded["details"]["expected_speed_ms"] is None  # beyond what Weidmann's relation can carry


def test_busyness_against_the_median_of_the_same_hour_in_earlier_weeks(lab, square, key_client):
    history = []
    for weeks, count_in in ((1, 5), (2, 10), (3, 15), (4, 20)):  # 60, 120, 180, 240 an hour: median 150
        start = MONDAY - timedelta(weeks=weeks)
        history += five_minutes("gate-1", start, start + HOUR, count_in, 0)
    lab["send"](history + morning())
    cells = lab["values"]("busyness", **hours())["results"]
    assert cells[0]["details"] == {"count": 180, "baseline": 150.0}
    assert (cells[0]["value"], cells[0]["level"]) == (1.2, "usual")
    assert "no_baseline" in cells[1]["flags"] and cells[1]["value"] is None  # 10:00 had no earlier Mondays
    # The area's own levels (busy feels different per place): 1.2 is busier where 1.1 already is.
    steward = key_client(lab["city"], Role.DATA_STEWARD)
    path = f"/api/v1/areas/{square.pk}/"
    falling = {"thresholds": {"busyness": {"quieter": 1.5, "busier": 1.1, "much_busier": 1.3}}}
    assert steward.patch(path, falling, format="json").status_code == 422
    rising = {"thresholds": {"busyness": {"quieter": 0.5, "busier": 1.1, "much_busier": 1.3}}}
    assert steward.patch(path, rising, format="json").status_code == 200
    assert lab["values"]("busyness", **hours())["results"][0]["level"] == "busier"


def test_a_cell_of_fewer_than_k_persons_is_suppressed_and_logged(lab):
    lab["send"](five_minutes("gate-1", MONDAY, MONDAY + timedelta(minutes=30), 1, 1))  # 3 in and 3 out a quarter
    before = AccessEvent.objects.count()
    body = lab["values"](
        "count", **{**hours("2026-03-02T09:00:00+01:00", "2026-03-02T10:00:00+01:00"), "bucket": "15m"}
    )
    quarters = body["results"]
    assert [c["value"] for c in quarters] == [None, None, None, None]
    assert [c["flags"] for c in quarters[:2]] == [["suppressed"], ["suppressed"]]
    assert quarters[0]["details"] == {} and quarters[0]["contributions"] is None
    assert quarters[2]["flags"] == ["no_data"]
    assert body["privacy"]["suppressed"] == 2
    event = AccessEvent.objects.order_by("-at", "-seq").first()
    assert AccessEvent.objects.count() == before + 1 and (event.cells, event.cells_suppressed) == (4, 2)
    hour = lab["values"]("count", **hours("2026-03-02T09:00:00+01:00", "2026-03-02T10:00:00+01:00"))["results"]
    assert hour[0]["value"] is None and hour[0]["flags"] == ["suppressed", "incomplete"]  # 6 in and 6 out
    correction = five_minutes("gate-1", MONDAY, MONDAY + timedelta(minutes=30), 2, 2)  # late: 12 in and 12 out
    assert post_json(lab["owner"], lab["dataset"], correction).status_code == 200
    hour = lab["values"]("count", **hours("2026-03-02T09:00:00+01:00", "2026-03-02T10:00:00+01:00"))["results"]
    assert hour[0]["value"] == 24 and hour[0]["flags"] == ["incomplete"]  # half the hour has data


def test_a_daylight_saving_day_has_23_hours_and_the_autumn_one_25(lab):
    spring, autumn = datetime(2026, 3, 28, 23, tzinfo=UTC), datetime(2026, 10, 24, 22, tzinfo=UTC)
    lab["send"](
        five_minutes("gate-1", spring, spring + 23 * HOUR, 10, 0)
        + five_minutes("gate-1", autumn, autumn + 25 * HOUR, 10, 0)
    )
    for day, length in (("2026-03-29", 23), ("2026-10-25", 25)):
        following = f"2026-{day[5:7]}-{int(day[8:]) + 1}"
        query = {"from": f"{day}T00:00:00", "to": f"{following}T00:00:00", "tz": "Europe/Amsterdam"}
        offsets = {"2026-03-29": ("+01:00", "+02:00"), "2026-10-25": ("+02:00", "+01:00")}[day]
        query = {"from": query["from"] + offsets[0], "to": query["to"] + offsets[1], "tz": "Europe/Amsterdam"}
        hourly = lab["values"]("count", bucket="1h", **query)["results"]
        assert len(hourly) == length and {c["value"] for c in hourly} == {120}
        daily = lab["values"]("count", bucket="1d", **query)["results"]
        assert [(c["value"], c["completeness"]) for c in daily] == [(120 * length, 1.0)]


def test_distancing_shares_and_sound_level_energy_mean(lab, city, key_client):
    cam, mic = make_sensor(city, city, "cam-1"), make_sensor(city, city, "mic-1")
    owner = key_client(city, "integrator")
    keeping = make_dataset(city, "distance-keeping", sensors=[cam])
    sound = make_dataset(city, "sound-anomaly", sensors=[mic])
    for dataset in (keeping, sound):
        dataset.collection_purposes.set([lab["purpose"]])
    start = MONDAY
    keep = [{"sensor": "cam-1", "observed_from": (start + timedelta(minutes=m)).isoformat(),
             "observed_to": (start + timedelta(minutes=m + 5)).isoformat(), "count_within_1_5m": 2,
             "count_1_5m_to_3m": 3, "count_beyond_3m": 5} for m in range(0, 60, 5)]  # fmt: skip
    levels = [{"sensor": "mic-1", "observed_from": (start + timedelta(minutes=m)).isoformat(),
               "observed_to": (start + timedelta(minutes=m + 1)).isoformat(), "level_laeq_db": 60.0 if m < 30 else 70.0,
               "anomaly_count": 0} for m in range(60)]  # fmt: skip
    for dataset, records in ((keeping, keep), (sound, levels)):
        answer = post_json(owner, dataset, records)
        assert answer.status_code == 201, answer.json()["errors"]
    query = hours("2026-03-02T09:00:00+01:00", "2026-03-02T10:00:00+01:00")
    reader, code = lab["reader"], lab["purpose"].code
    shares = reader.get(
        VALUES.format(code="distancing"), {"dataset": keeping.pk, "sensor": cam.pk, **query}, HTTP_X_PURPOSE=code
    )
    cell = shares.json()["results"][0]
    assert (cell["value"], cell["contributions"]) == (0.2, 120)
    assert cell["details"] == {"high_risk": 0.2, "low_risk": 0.3, "safe": 0.5}
    laeq = reader.get(
        VALUES.format(code="sound-level"), {"dataset": sound.pk, "sensor": mic.pk, **query}, HTTP_X_PURPOSE=code
    )
    cell = laeq.json()["results"][0]
    assert cell["value"] == 67.4 and cell["contributions"] is None  # never (60 + 70) / 2


def test_forecast_from_the_same_weekday_profile_and_the_event_calendar(lab, city, square, key_client):
    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    history = []
    for weeks, count_in in ((1, 10), (2, 20), (3, 30), (4, 40), (5, 50), (6, 60), (7, 70), (8, 80)):
        start = hour - timedelta(weeks=weeks) - 6 * HOUR
        history += five_minutes("gate-1", start, start + 12 * HOUR, count_in, 0)
    lab["send"](history)
    calendar = make_dataset(city, "event-calendar")
    calendar.collection_purposes.set([lab["purpose"]])
    event = {"event_id": "fair", "event_name": "Fair", "area_id": square.pk, "expected_visitors": 240,
             "observed_from": (hour + HOUR).isoformat(), "observed_to": (hour + 3 * HOUR).isoformat()}  # fmt: skip
    answer = post_json(key_client(city, "integrator"), calendar, [event])
    assert answer.status_code == 201, answer.json()["errors"]
    body = lab["values"]("forecast", tz="UTC", bucket="1h", events=calendar.pk,
                         **{"from": hour.isoformat(), "to": (hour + 4 * HOUR).isoformat()})  # fmt: skip
    cells = body["results"]
    # The last 4 weeks before each hour: 120, 240, 360, 480 an hour: median 300; the fair adds 120 an hour.
    assert [c["details"]["profile"] for c in cells] == [300.0] * 4
    assert [c["value"] for c in cells] == [300, 420, 420, 300]
    error = body["error"][0]
    assert error["area"] == square.pk and error["buckets"] > 0 and error["mae"] > 0 and error["weeks"] == 4


def test_csv_and_geojson(lab, square):
    lab["send"](morning())
    reader, code, dataset = lab["reader"], lab["purpose"].code, lab["dataset"]
    answer = reader.get(
        VALUES.format(code="count"), {"dataset": dataset.pk, "format": "csv", **hours()}, HTTP_X_PURPOSE=code
    )
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert [(row["value"], row["details.in"], row["details.out"]) for row in rows] == [
        ("180", "120", "60"), ("168", "24", "144"), ("168", "24", "144")
    ]  # fmt: skip
    geo = reader.get(
        VALUES.format(code="count"),
        {"dataset": dataset.pk, **hours()},
        HTTP_ACCEPT="application/geo+json",
        HTTP_X_PURPOSE=code,
    )
    body = geo.json()
    assert geo["Content-Type"].startswith("application/geo+json") and body["type"] == "FeatureCollection"
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "Polygon" and feature["properties"]["area"] == square.pk
    assert [c["value"] for c in feature["properties"]["cells"]] == [180, 168, 168]


def test_clear_refusals(lab, gates):
    lab["send"](morning())

    def pointer(code, **query):
        body = lab["values"](code, expect=422, **query)
        return body["errors"][0]["pointer"]

    assert pointer("count", **{**hours(), "to": "2026-03-02T08:00:00+01:00"}) == "/to"  # before from
    assert pointer("count", **{**hours(), "from": "2026-03-02T09:30:00+01:00"}) == "/from"  # not an hour's start
    assert pointer("count", area=999_999, **hours()) == "/area"
    assert (
        pointer("count", **{**hours("2026-01-01T00:00:00+01:00", "2026-03-01T00:00:00+01:00"), "bucket": "15m"})
        == "/to"
    )
    assert pointer("sound-level", **hours()) == "/dataset"  # counts give no sound level
    assert pointer("count", sensor=gates[0].pk, area=1, **hours()) == "/sensor"
    assert pointer("count", **{**hours(), "tz": "Mars/Olympus"}) == "/tz"
    assert pointer("count", **{**hours(), "from": "0001-01-01T00:00:00Z"}) == "/from"  # no time zone can carry it
    assert pointer("count", **{**hours(), "to": "9999-12-31T23:00:00Z"}) == "/to"
    assert pointer("count", bucket="1h", **{"from": "2000-01-01T00:00:00Z"}) == "/from"  # years of hours
    only_to = lab["values"]("count", tz="Europe/Amsterdam", to="2026-03-02T12:00:00+01:00")
    assert (only_to["from"], len(only_to["results"])) == ("2026-03-01T12:00:00+01:00", 24)  # the 24 hours before
    past = lab["values"]("forecast", **{"from": "2016-01-01T00:00:00Z", "to": "2016-01-02T00:00:00Z"})
    assert past["error"] == [] and len(past["results"]) == 24  # a past day: its own weeks read, no error
    unknown = lab["reader"].get(
        VALUES.format(code="happiness"), {"dataset": lab["dataset"].pk}, HTTP_X_PURPOSE=lab["purpose"].code
    )
    assert unknown.status_code == 404 and "happiness" in unknown.json()["detail"]


def test_hourly_data_cannot_give_15_minutes(lab, city, key_client):
    counter = make_sensor(city, city, "m-1")
    hourly = make_dataset(city, "hourly-pedestrian-count", sensors=[counter])
    hourly.collection_purposes.set([lab["purpose"]])
    query = {"dataset": hourly.pk, "sensor": counter.pk, **hours(end="2026-03-02T10:00:00+01:00"), "bucket": "15m"}
    body = lab["reader"].get(VALUES.format(code="count"), query, HTTP_X_PURPOSE=lab["purpose"].code)
    assert body.status_code == 422 and body.json()["errors"][0]["pointer"] == "/bucket"


def test_the_grant_conditions_hold(lab, gates, key_client):
    lab["send"](morning())
    police = OrganisationFactory(slug="politie", kind="police")
    purpose = make_purpose(police, "politie-indicators", levels=("aggregate",))
    grant(lab["dataset"], purpose, police, "aggregate", assessment=assess(lab["dataset"], purpose),
          min_bucket_minutes=60, area_only=True)  # fmt: skip
    client = key_client(police, Role.ANALYST)

    def ask(**query):
        return client.get(
            VALUES.format(code="count"), {"dataset": lab["dataset"].pk, **query}, HTTP_X_PURPOSE=purpose.code
        )

    assert ask(**hours()).status_code == 200
    fine = ask(**{**hours(), "bucket": "15m"})
    assert fine.status_code == 403 and fine.json()["reason"] == "too_detailed"
    single = ask(sensor=gates[0].pk, **hours())
    assert single.status_code == 403 and single.json()["reason"] == "too_detailed"
    assert client.get(VALUES.format(code="count"), {"dataset": lab["dataset"].pk, **hours()}).status_code == 403


def test_anyone_reads_under_an_open_grant_and_a_restricted_sensor_stays_inside_its_area(lab, city, gates, client):
    lab["send"](morning() + morning("gate-2"))
    Placement.objects.create(sensor=gates[1], area=Placement.objects.get(sensor=gates[0]).area, direction="enters")
    gates[1].visibility, gates[1].restriction_reason = "restricted", "Inside the police station."
    gates[1].save()
    purpose = open_grant(lab["dataset"], city, "stad-open-indicators")
    answer = client.get(VALUES.format(code="count"), {"dataset": lab["dataset"].pk, "sensor": gates[1].pk, **hours()},
                        HTTP_X_PURPOSE=purpose.code)  # fmt: skip
    assert answer.status_code == 422 and answer.json()["errors"][0]["pointer"] == "/sensor"
    area = client.get(
        VALUES.format(code="count"), {"dataset": lab["dataset"].pk, **hours()}, HTTP_X_PURPOSE=purpose.code
    )
    assert area.status_code == 200


@pytest.mark.smoke
def test_definitions_are_served_without_login(client):
    listed = client.get("/api/v1/indicators/").json()["results"]
    codes = [found["code"] for found in listed]
    assert codes == ["count", "occupancy", "density", "level-of-service", "flow", "crowding-level", "busyness",
                     "forecast", "distancing", "sound-level"]  # fmt: skip
    one = client.get("/api/v1/indicators/level-of-service/").json()
    assert one["code"] == "level-of-service" and one["sources"] and one["formula"]["symbols"]
    assert client.get("/api/v1/indicators/nothing/").status_code == 404
    assert SchemaVersion.objects.filter(schema__code__in=[s for i in one["inputs"] for s in i["schemas"]]).exists()


def test_an_open_grant_with_noise_spends_the_dataset_budget_until_it_refuses(lab, city, client, settings):
    from purposes.models import PrivacyBudget, PrivacySpend

    lab["send"](morning())
    settings.PRIVACY_BUDGET_DEFAULT_EPSILON = 15.0
    purpose = open_grant(lab["dataset"], city, "stad-open-noisy", noise_epsilon=1.0)

    def read():
        return client.get(
            VALUES.format(code="count"), {"dataset": lab["dataset"].pk, **hours()}, HTTP_X_PURPOSE=purpose.code
        )

    answer = read()
    assert answer.status_code == 200, answer.json()
    first = answer.json()
    cells = first["results"]
    assert all("noisy" in c["flags"] for c in cells)
    assert all(c["value"] == c["details"]["in"] + c["details"]["out"] for c in cells)  # in + out, each noised
    assert first["privacy"]["noise"]["epsilon_per_count"] == 1.0
    assert PrivacySpend.objects.filter(dataset_id=lab["dataset"].pk).count() == 1
    assert float(PrivacyBudget.objects.get(pk=lab["dataset"].pk).spent_epsilon) == 6.0  # 3 cells x (in, out)
    assert [c["details"] for c in read().json()["results"]] == [c["details"] for c in cells]  # the same noise again
    refused = read()  # 18 > 15: the budget does not cover a third read
    assert refused.status_code == 403 and refused.json()["reason"] == "privacy_budget_spent"
    assert float(PrivacyBudget.objects.get(pk=lab["dataset"].pk).spent_epsilon) == 6.0 * 2
    event = AccessEvent.objects.order_by("-at", "-seq").first()
    assert (event.decision, event.reason) == ("refused", "privacy_budget_spent")


def test_a_sensor_out_of_service_is_not_missing_but_a_silent_one_is(lab, gates, square):
    """Completeness counts the seconds each sensor was placed in the area and in service: gate-2 was removed at
    10:00, so gate-1 alone makes 10-11 complete; before, gate-2 was there and silent, so 09-10 is half covered."""
    Placement.objects.create(sensor=gates[1], area=square, direction="enters")
    gates[1].status, gates[1].removed_at = "removed", MONDAY + HOUR
    gates[1].save()
    lab["send"](morning())
    cells = lab["values"]("count", **hours())["results"]
    assert [(c["completeness"], c["flags"]) for c in cells] == [(0.5, ["incomplete"]), (1.0, []), (1.0, [])]


def test_a_cell_whose_in_or_out_is_under_k_is_withheld_whole(lab):
    """in + out = total: showing the total and the out would give the in, so all go together (like the counts)."""
    lab["send"](five_minutes("gate-1", MONDAY, MONDAY + HOUR, lambda m: 1 if m.minute < 15 else 0, 10))
    cells = lab["values"]("count", **hours(end="2026-03-02T10:00:00+01:00"))["results"]
    assert cells[0]["flags"] == ["suppressed"] and cells[0]["details"] == {}  # in 3, out 120


def test_under_noise_the_baseline_is_made_of_the_released_noisy_weeks_and_the_error_is_not_given(lab, city, client):
    week_before = MONDAY - timedelta(weeks=1)
    lab["send"](five_minutes("gate-1", week_before, week_before + HOUR, 5, 1) + morning())
    purpose = open_grant(lab["dataset"], city, "stad-open-noisy-busy", noise_epsilon=0.1)

    def read(code, start):
        query = {"dataset": lab["dataset"].pk, "bucket": "1h", "tz": "Europe/Amsterdam", "from": start.isoformat(),
                 "to": (start + HOUR).isoformat()}  # fmt: skip
        answer = client.get(VALUES.format(code=code), query, HTTP_X_PURPOSE=purpose.code)
        assert answer.status_code == 200, answer.json()
        return answer.json()

    released_then = read("count", week_before)["results"][0]["value"]  # the week before, noised
    busy = read("busyness", MONDAY)["results"][0]
    assert busy["details"]["baseline"] == released_then  # never the exact 72 behind it
    assert "noisy" in busy["flags"]


def test_the_counts_endpoint_refuses_a_year_no_time_zone_can_carry(lab):
    """The same edge check as the indicators' (api.records.ZonedCellsMixin): year 1 in Amsterdam was a 500."""
    query = {"dataset": lab["dataset"].pk, "bucket": "hour", "tz": "Europe/Amsterdam", "from": "0001-01-01T00:00:00Z"}
    answer = lab["reader"].get("/api/v1/aggregates/counts/", query, HTTP_X_PURPOSE=lab["purpose"].code)
    assert answer.status_code == 422 and answer.json()["errors"][0]["pointer"] == "/from"
