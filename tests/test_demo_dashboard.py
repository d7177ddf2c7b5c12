"""The demo's data for the open dashboard: simulated centre passages, their open grants, a coming event."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone
from rest_framework.test import APIClient

from datasets import demo_passages
from datasets.models import AreaRollup, Dataset, Record
from purposes.models import AccessLevel, Grant, Purpose, PurposeCategory, PurposeStatus
from sensors.models import Area

NOW = datetime(2026, 11, 21, 17, 8, 30, tzinfo=UTC)  # a Saturday, 18:08 in Voorbeeldstad
GATES = {"vbs-stratumseind-lidar-01", "vbs-stratumseind-lidar-02", "vbs-station-thermal-01"}


def by_area(now=NOW):
    end = demo_passages.quarter_hour(now)
    start = end - timedelta(weeks=demo_passages.WEEKS)
    return {area.name: demo_passages.area_passages(area, start, end) for area in demo_passages.AREAS}


def test_the_simulation_gives_five_weeks_of_five_minute_records_up_to_the_quarter_hour():
    records = demo_passages.centre_passages(NOW)
    assert records == demo_passages.centre_passages(NOW)
    assert {record["sensor"] for record in records} == GATES
    assert len(records) == len(GATES) * 5 * 7 * 24 * 12
    starts = [datetime.fromisoformat(record["observed_from"]) for record in records]
    ends = [datetime.fromisoformat(record["observed_to"]) for record in records]
    assert max(ends) == datetime(2026, 11, 21, 17, 0, tzinfo=UTC)
    assert min(starts) == datetime(2026, 11, 21, 17, 0, tzinfo=UTC) - timedelta(weeks=5)
    assert {end - start for start, end in zip(starts, ends, strict=True)} == {timedelta(minutes=5)}
    assert all(record["count_in"] >= 0 and record["count_out"] >= 0 for record in records)


def test_a_day_keeps_its_numbers_whenever_the_demo_is_loaded():
    """Seeded by area and local date: yesterday's arrivals are the same for a demo loaded a day later."""
    yesterday = datetime(2026, 11, 20, 8, tzinfo=UTC)
    today, tomorrow = by_area(NOW), by_area(NOW + timedelta(days=1))
    for name, passages in today.items():
        then = {moment: entering for moment, entering, _ in tomorrow[name]}
        day = [(moment, entering) for moment, entering, _ in passages if yesterday <= moment < NOW - timedelta(hours=2)]
        assert len(day) > 60 and all(then[moment] == entering for moment, entering in day), name


def test_the_gates_add_up_to_their_areas():
    passages = by_area()
    records = demo_passages.centre_passages(NOW)
    for area in demo_passages.AREAS:
        gates = {reference for reference, _ in area.gates}
        quarter = defaultdict(lambda: [0, 0])
        for record in records:
            if record["sensor"] in gates:
                moment = demo_passages.quarter_hour(datetime.fromisoformat(record["observed_from"]))
                quarter[moment][0] += record["count_in"]
                quarter[moment][1] += record["count_out"]
        assert {moment: (i, o) for moment, (i, o) in quarter.items()} == {
            moment: (entering, leaving) for moment, entering, leaving in passages[area.name]
        }


def test_areas_never_hold_fewer_than_nobody_and_are_empty_at_four_oclock():
    """Occupancy (start + in - out, reset at 4 o'clock local, as the occupancy indicator reads it)."""
    for name, passages in by_area().items():
        occupancy, highest, at_reset = None, 0, []
        for moment, entering, leaving in passages:
            local = moment.astimezone(demo_passages.AMSTERDAM_TIME)
            if (local.hour, local.minute) == (4, 0):
                if occupancy is not None:
                    at_reset.append(occupancy)
                occupancy = 0
            if occupancy is not None:
                occupancy += entering - leaving
                assert occupancy >= 0, (name, moment)
                highest = max(highest, occupancy)
        assert len(at_reset) == 34 and set(at_reset) == {0}, name
        assert highest > 100, name
    # Stratumseind (2,600 m²) gets above 2 persons/m² on a Saturday night: the crowding level turns yellow.
    stratumseind = by_area()["Stratumseind"]
    occupancy = peak = 0
    for _, entering, leaving in stratumseind:
        occupancy += entering - leaving
        peak = max(peak, occupancy)
    assert 2 * 2600 < peak < 3 * 2600


def test_friday_and_saturday_evenings_are_busier_and_most_quarter_hours_pass_k():
    for name, passages in by_area().items():
        evenings = defaultdict(list)
        for moment, entering, _ in passages:
            local = moment.astimezone(demo_passages.AMSTERDAM_TIME)
            if local.hour >= 20:
                evenings[demo_passages.day_kind(local)].append(entering)
        mean = {kind: sum(values) / len(values) for kind, values in evenings.items()}
        assert mean["friday"] > 1.3 * mean["weekday"] and mean["saturday"] > 1.3 * mean["weekday"], name
        passing = [entering + leaving >= 10 for _, entering, leaving in passages]
        assert 0.9 < sum(passing) / len(passing) < 1, name  # some quiet night quarters are withheld


@pytest.fixture
def demo(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("demo", stdout=StringIO())


@pytest.mark.django_db
def test_the_demo_stores_the_passages_in_their_areas_and_says_they_are_simulated(demo):
    passages = Dataset.objects.get(title="Centre passages (simulated)")
    assert passages.description.startswith("SIMULATED DATA, not measured")
    assert set(passages.sensors.values_list("reference", flat=True)) == GATES
    assert set(passages.areas.values_list("name", flat=True)) == {"Stratumseind", "Stationsplein"}
    records = Record.objects.unguarded("integrity").filter(dataset=passages)
    assert records.count() == len(GATES) * 5 * 7 * 24 * 12
    last = records.order_by("-observed_to").values_list("observed_to", flat=True).first()
    assert timezone.now() - timedelta(minutes=15) <= last <= timezone.now()
    # The area rollups fill through the sensors' placements: every quarter hour of the five weeks, per area.
    rollups = AreaRollup.objects.unguarded("integrity").filter(dataset=passages)
    for area in passages.areas.all():
        gates = records.filter(sensor__placements__area=area)
        assert rollups.filter(area=area).count() == 5 * 7 * 96
        assert rollups.filter(area=area).aggregate(n=Sum("count_in"))["n"] == gates.aggregate(n=Sum("count_in"))["n"]


@pytest.mark.django_db
def test_the_dashboard_purpose_opens_the_passages_and_the_calendar_to_anyone(demo):
    purpose = Purpose.objects.get(code="vbs-open-dashboard")
    assert (purpose.holder.slug, purpose.category, purpose.status) == (
        "gemeente-voorbeeldstad",
        PurposeCategory.TRANSPARENCY,
        PurposeStatus.APPROVED,
    )
    assert not purpose.dpia_required and purpose.allowed_levels == [AccessLevel.AGGREGATE] and purpose.area_only
    grants = {grant.dataset.title: grant for grant in Grant.objects.filter(purpose=purpose)}
    assert set(grants) == {"Centre passages (simulated)", "Event calendar Voorbeeldstad"}
    for grant in grants.values():
        assert grant.grantee is None and grant.level == AccessLevel.AGGREGATE and grant.revoked_at is None
        assert (grant.min_bucket_minutes, grant.k_threshold) == (15, 10)
    assert grants["Centre passages (simulated)"].assessment is None  # collected for it
    calendar = grants["Event calendar Voorbeeldstad"].assessment  # re-purposed for it
    assert calendar.signed_by_name == "gemeente-voorbeeldstad-privacy-officer"
    assert "No personal data" in calendar.nature_of_data

    passages = grants["Centre passages (simulated)"].dataset
    anyone = APIClient()
    path = "/api/v1/aggregates/counts/"
    per_area = anyone.get(path, {"dataset": passages.pk, "by": "area", "bucket": "hour", "purpose": purpose.code})
    assert per_area.status_code == 200, per_area.content
    assert {cell["area"] for cell in per_area.json()["results"]} == set(passages.areas.values_list("pk", flat=True))
    per_sensor = anyone.get(path, {"dataset": passages.pk, "bucket": "hour", "purpose": purpose.code})
    assert per_sensor.status_code == 403 and per_sensor.json()["reason"] == "too_detailed", per_sensor.content


@pytest.mark.django_db
def test_an_event_is_coming_in_stratumseind_within_48_hours(demo):
    calendar = Dataset.objects.get(title="Event calendar Voorbeeldstad")
    now = timezone.now()
    coming = Record.objects.unguarded("integrity").filter(dataset=calendar, observed_from__gt=now)
    assert coming.count() == 1
    event = coming.get()
    assert event.observed_from < now + timedelta(hours=48)
    assert event.data["area_id"] == Area.objects.get(owner=calendar.owner, name="Stratumseind").pk
    assert event.gauge == 5000  # expected visitors
