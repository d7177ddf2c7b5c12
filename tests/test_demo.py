"""`manage.py demo`: organisations of every kind, people and keys, credentials shown once; purposes and grants."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory
from rest_framework.test import APIClient

from accounts.models import ApiKey, Membership, Organisation, OrganisationKind
from datasets.models import Dataset
from purposes.models import AccessEvent, CompatibilityAssessment, Grant, Purpose, PurposeDecision, PurposeStatus
from sensors.models import Area, Placement, Sensor

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def parse(text):
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_demo_loads_every_kind_once_and_writes_the_credentials(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    out = StringIO()
    call_command("demo", stdout=out)
    assert set(Organisation.objects.values_list("kind", flat=True)) == set(OrganisationKind.values)
    credentials = parse((tmp_path / "demo-credentials.env").read_text())
    assert (tmp_path / "demo-credentials.env").stat().st_mode & 0o077 == 0
    keys = {name: value for name, value in credentials.items() if name.startswith("CDP_KEY_")}
    assert len(keys) == Organisation.objects.count() == ApiKey.objects.count()
    for name, secret in keys.items():
        assert secret in out.getvalue()
        response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Api-Key {secret}")
        assert response.status_code == 200, name
    password = credentials["CDP_PASSWORD_GEMEENTE_VOORBEELDSTAD_PRIVACY_OFFICER"]
    sign_in = RequestFactory().post("/accounts/login/")  # django-axes wants the request it may lock
    user = authenticate(sign_in, username="gemeente-voorbeeldstad-privacy-officer", password=password)
    assert Membership.objects.get(user=user).role == "privacy_officer"

    again = StringIO()
    counts = (Organisation.objects.count(), ApiKey.objects.count(), Membership.objects.count())
    call_command("demo", stdout=again)
    assert "already loaded" in again.getvalue()
    assert (Organisation.objects.count(), ApiKey.objects.count(), Membership.objects.count()) == counts
    assert not any(secret in again.getvalue() for secret in keys.values())


IN_FORCE = {
    "vbs-crowd-safety",
    "vbs-event-planning",
    "melbourne-pedestrian-planning",
    "melbourne-open-statistics",
    "politie-openbare-orde-stratumseind",
    "crowd-lab-flow-research",
    "vbs-open-dashboard",
}


@pytest.fixture
def demo(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("demo", stdout=StringIO())
    return parse((tmp_path / "demo-credentials.env").read_text())


def test_demo_purposes_are_approved_or_withdrawn_by_a_privacy_officer_by_name(demo):
    assert set(Purpose.objects.values_list("code", flat=True)) == IN_FORCE | {"vbs-wifi-tracking-pilot"}
    for purpose in Purpose.objects.filter(code__in=IN_FORCE):
        assert purpose.status == PurposeStatus.APPROVED, purpose
        approval = purpose.decisions.get()
        assert approval.actor_name == f"{purpose.holder.slug}-privacy-officer"
    wifi = Purpose.objects.get(code="vbs-wifi-tracking-pilot")
    assert wifi.status == PurposeStatus.WITHDRAWN
    assert list(wifi.decisions.values_list("action", flat=True)) == ["approved", "withdrawn"]
    assert "disproportionate" in wifi.decisions.get(action=PurposeDecision.Action.WITHDRAWN).reason


def test_demo_datasets_are_collected_for_their_owners_purposes(demo):
    stratumseind = Dataset.objects.get(title="Stratumseind passages")
    melbourne = Dataset.objects.get(owner__slug="city-of-melbourne")
    events = Dataset.objects.get(title="Event calendar Voorbeeldstad")
    passages = Dataset.objects.get(title="Centre passages (simulated)")

    def codes(dataset):
        return set(dataset.collection_purposes.values_list("code", flat=True))

    assert codes(stratumseind) == {"vbs-crowd-safety"}
    assert codes(events) == {"vbs-crowd-safety", "vbs-event-planning"}
    assert codes(melbourne) == {"melbourne-pedestrian-planning", "melbourne-open-statistics"}
    assert codes(passages) == {"vbs-crowd-safety", "vbs-open-dashboard"}
    for dataset in (stratumseind, melbourne, events, passages):
        assert set(dataset.collection_purposes.values_list("holder", flat=True)) == {dataset.owner_id}


def test_demo_grants_one_repurposing_with_its_assessment_and_one_open(demo):
    stratumseind = Dataset.objects.get(title="Stratumseind passages")
    police = Grant.objects.get(purpose__code="politie-openbare-orde-stratumseind")
    assert (police.dataset, police.grantee.slug, police.level) == (stratumseind, "politie-voorbeeldstad", "aggregate")
    assert (police.min_bucket_minutes, police.k_threshold, police.revoked_at) == (15, 10, None)
    assessment = police.assessment
    assert (assessment.dataset, assessment.purpose) == (stratumseind, police.purpose)
    assert assessment.signed_by_name == "gemeente-voorbeeldstad-privacy-officer"
    criteria = ("link_between_purposes", "context_of_collection", "nature_of_data", "possible_consequences")
    assert all(getattr(assessment, name) for name in (*criteria, "safeguards"))
    assert police.granted_by_name == "gemeente-voorbeeldstad-data-steward"

    open_grant = Grant.objects.get(purpose__code="melbourne-open-statistics")
    assert open_grant.grantee is None and open_grant.level == "aggregate" and open_grant.assessment is None
    assert open_grant.dataset.owner.slug == "city-of-melbourne"
    # Two more for the open dashboard (test_demo_dashboard.py), one of them with an assessment.
    assert Grant.objects.count() == 4 and CompatibilityAssessment.objects.count() == 2
    assert not Grant.objects.filter(purpose__code="crowd-lab-flow-research").exists()


def test_demo_paths_from_the_readme(demo):
    """Each path the README offers answers as it says, and leaves one access event."""
    stratumseind = Dataset.objects.get(title="Stratumseind passages").pk
    melbourne = Dataset.objects.get(owner__slug="city-of-melbourne").pk
    client = APIClient()

    def get(path, key=None, **params):
        headers = {"HTTP_AUTHORIZATION": f"Api-Key {demo[key]}"} if key else {}
        return client.get(path, params, **headers)

    owner = get("/api/v1/records/", "CDP_KEY_GEMEENTE_VOORBEELDSTAD", dataset=stratumseind, purpose="vbs-crowd-safety")
    assert owner.status_code == 200, owner.content
    rows = owner.json()["results"]
    assert len(rows) == 144  # a night: 72 five-minute intervals for each of two LiDAR counters
    assert any(row["suppressed"] for row in rows) and any(row["count_in"] and row["count_in"] >= 10 for row in rows)

    police = get("/api/v1/aggregates/counts/", "CDP_KEY_POLITIE_VOORBEELDSTAD", dataset=stratumseind,
                 purpose="politie-openbare-orde-stratumseind")  # fmt: skip
    assert police.status_code == 200, police.content
    assert sum(cell["count_in"] or 0 for cell in police.json()["results"]) > 1000

    anonymous = get("/api/v1/aggregates/counts/", dataset=melbourne, bucket="day", purpose="melbourne-open-statistics")
    assert anonymous.status_code == 200, anonymous.content
    assert anonymous.json()["results"]

    refusals = [
        (get("/api/v1/aggregates/counts/", "CDP_KEY_GEMEENTE_VOORBEELDSTAD", dataset=stratumseind,
             purpose="vbs-wifi-tracking-pilot"), "purpose_withdrawn"),
        (get("/api/v1/aggregates/counts/", "CDP_KEY_CROWD_LAB", dataset=stratumseind,
             purpose="crowd-lab-flow-research"), "no_grant"),
        (get("/api/v1/records/", dataset=melbourne, purpose="melbourne-open-statistics"), "purpose_level_not_allowed"),
        (get("/api/v1/records/", dataset=melbourne), "purpose_missing"),
    ]  # fmt: skip
    for response, reason in refusals:
        assert response.status_code == 403 and response.json()["reason"] == reason, response.content
    assert AccessEvent.objects.count() == 3 + len(refusals)


def test_public_purposes_list_those_in_force_and_not_the_withdrawn_one(demo):
    response = APIClient().get("/api/v1/public/purposes/", {"page_size": 100})
    assert response.status_code == 200
    listed = {purpose["code"]: purpose for purpose in response.json()["results"]}
    assert set(listed) == IN_FORCE
    melbourne = Dataset.objects.get(owner__slug="city-of-melbourne").pk
    assert [dataset["id"] for dataset in listed["melbourne-open-statistics"]["datasets"]] == [melbourne]
    police = listed["politie-openbare-orde-stratumseind"]
    assert [dataset["title"] for dataset in police["datasets"]] == ["Stratumseind passages"]
    assert listed["crowd-lab-flow-research"]["datasets"] == []
    dashboard = [dataset["title"] for dataset in listed["vbs-open-dashboard"]["datasets"]]
    assert sorted(dashboard) == ["Centre passages (simulated)", "Event calendar Voorbeeldstad"]


def test_demo_places_melbourne_sensors_by_their_areas_polygons_and_shows_a_moved_sensor(demo):
    melbourne = Organisation.objects.get(slug="city-of-melbourne")
    mall = Area.objects.get(owner=melbourne, name="Bourke Street Mall")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {demo['CDP_KEY_CITY_OF_MELBOURNE']}")
    inside = client.get(f"/api/v1/areas/{mall.pk}/sensors-inside/")
    assert inside.status_code == 200, inside.content
    assert {(row["reference"], row["placed"]) for row in inside.json()} == {
        ("1", "here"),
        ("2", "here"),
        ("63", "here"),
    }
    # Placed since their installation, so January 2011's counts belong to their areas.
    placed = Placement.objects.filter(area__owner=melbourne)
    january = datetime(2011, 1, 1, tzinfo=UTC)
    assert (
        placed.count() >= 15
        and not placed.filter(starts_at__gt=january).exclude(sensor__installed_at__gt=january).exists()
    )
    assert placed.values("area").distinct().count() == 5
    assert Sensor.objects.filter(controller=melbourne, area__isnull=False).count() == placed.count()

    moved = Sensor.objects.get(reference="vbs-station-thermal-01")
    history = APIClient().get(f"/api/v1/public/sensors/{moved.pk}/placements/").json()
    assert [(row["area_name"], row["ends_at"] is None) for row in history] == [
        ("Markt", False),
        ("Stationsplein", True),
    ]
    assert history[0]["ends_at"] == history[1]["starts_at"] == "2026-01-12T05:00:00Z"
    assert moved.area.name == "Stationsplein"
