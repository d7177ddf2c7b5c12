"""Purposes, approvals, assessments, grants and the access log through the API: roles, scoping, re-purposing."""

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiKey, Role
from purposes.models import AccessEvent, Grant, Purpose, PurposeCategory
from tests.api.endpoint_checks import ScopedEndpointChecks
from tests.factories import MembershipFactory
from tests.purposes.conftest import RECORDS, assess, grant, make_purpose

PURPOSES, GRANTS, ASSESSMENTS, EVENTS = (
    "/api/v1/purposes/",
    "/api/v1/grants/",
    "/api/v1/assessments/",
    "/api/v1/access-events/",
)


def purpose_payload(**changes):
    return {
        "code": "stad-event-planning",
        "title": "Event planning",
        "decision": "Which events get a permit, and with which crowd measures.",
        "category": "event_planning",
        "legal_basis": "e",
        "national_basis": "Gemeentewet art. 174",
        "dpia_required": True,
        "dpia_reference": "DPIA-2026-03",
        "allowed_levels": ["aggregate"],
        "min_bucket_minutes": 60,
        "k_threshold": 10,
        "kpis": [{"name": "Permits decided with crowd data", "kind": "output", "scope": "application", "unit": "%",
                  "target": 80, "measurements": [{"at": "2026-06-01T00:00:00Z", "value": 40}]}],
        **changes,
    }  # fmt: skip


def person(organisation, role):
    membership = MembershipFactory(organisation=organisation, role=role)
    client = APIClient()
    client.force_login(membership.user)
    return client


class TestPurposeScoping(ScopedEndpointChecks):
    list_url = PURPOSES
    lookup_field = "code"
    role = Role.PRIVACY_OFFICER
    update_payload = {"title": "Hijacked"}
    detail_actions = ["approve", "withdraw"]

    def make_object(self, organisation):
        return make_purpose(organisation, f"{organisation.slug}-purpose", approve=False)


class TestGrantScoping(ScopedEndpointChecks):
    list_url = GRANTS
    lookup_field = "id"
    role = Role.DATA_STEWARD
    detail_actions = ["revoke"]

    def make_object(self, organisation):
        from tests.datasets.conftest import make_dataset

        dataset = make_dataset(organisation)
        purpose = make_purpose(organisation, f"{organisation.slug}-collect")
        dataset.collection_purposes.add(purpose)
        return grant(dataset, purpose, organisation)


@pytest.mark.smoke
def test_declare_approve_withdraw(world, key_client):
    steward, officer = key_client(world["city"], Role.DATA_STEWARD), key_client(world["city"], Role.PRIVACY_OFFICER)
    created = steward.post(PURPOSES, purpose_payload(), format="json")
    assert created.status_code == 201, created.content
    assert officer.patch(f"{PURPOSES}stad-event-planning/", {"dpia_status": "approved"}).status_code == 200
    assert created.json()["status"] == "draft" and created.json()["in_force"] is False
    assert steward.post(f"{PURPOSES}stad-event-planning/approve/").status_code == 403  # not a privacy officer
    approved = officer.post(f"{PURPOSES}stad-event-planning/approve/", {"reason": "DPIA approved"})
    assert approved.status_code == 200 and approved.json()["in_force"] is True
    # an approved purpose is frozen, but for its KPIs and DPIA details
    frozen = steward.patch(f"{PURPOSES}stad-event-planning/", {"allowed_levels": ["records"]}, format="json")
    assert frozen.status_code == 409 and frozen.json()["errors"][0]["pointer"] == "/allowed_levels"
    assert steward.patch(f"{PURPOSES}stad-event-planning/", {"dpia_url": "https://x.example/dpia"}).status_code == 200
    no_reason = officer.post(f"{PURPOSES}stad-event-planning/withdraw/", {})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["pointer"] == "/reason"
    withdrawn = officer.post(f"{PURPOSES}stad-event-planning/withdraw/", {"reason": "Event cancelled"})
    assert withdrawn.json()["status"] == "withdrawn"
    assert [d["action"] for d in withdrawn.json()["decisions"]] == ["approved", "withdrawn"]
    assert withdrawn.json()["decisions"][1]["reason"] == "Event cancelled"


def test_bad_purposes_answer_422_with_pointers(world, key_client):
    steward = key_client(world["city"], Role.DATA_STEWARD)
    for changes, pointer in (
        ({"k_threshold": 2}, "/k_threshold"),
        ({"allowed_levels": ["everything"]}, "/allowed_levels/0"),
        ({"category": "surveillance"}, "/category"),
        ({"kpis": [{"name": "x", "kind": "impact", "scope": "technology", "unit": "%"}]}, "/kpis/0/kind"),
        ({"valid_from": "2026-02-01T00:00:00Z", "valid_until": "2026-01-01T00:00:00Z"}, "/valid_until"),
        ({"holder": "politie"}, "/holder"),
    ):
        response = steward.post(PURPOSES, purpose_payload(**changes), format="json")
        assert response.status_code == 422, (changes, response.content)
        assert pointer in [e["pointer"] for e in response.json()["errors"]], (changes, response.json())
    assert steward.post(PURPOSES, purpose_payload(code="stad-crowd-safety"), format="json").status_code in (409, 422)


def test_repurposing_without_an_assessment_is_refused(world, key_client):
    police = make_purpose(world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER)
    steward = key_client(world["city"], Role.DATA_STEWARD)
    body = {"dataset": world["dataset"].pk, "purpose": police.code, "grantee": "politie", "level": "aggregate"}
    refused = steward.post(GRANTS, body, format="json")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/assessment"
    assert refused.json()["code"] == "assessment_required"
    assert not Grant.objects.exists()


def test_a_privacy_officer_signs_the_assessment_by_name_and_the_steward_grants(world, key_client):
    police = make_purpose(world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER)
    officer = person(world["city"], Role.PRIVACY_OFFICER)
    answers = {
        "dataset": world["dataset"].pk,
        "purpose": police.code,
        "link_between_purposes": "Both serve crowd safety.",
        "context_of_collection": "Public space, signs.",
        "nature_of_data": "Counts only.",
        "possible_consequences": "Deployment of officers.",
        "safeguards": "Aggregates, per area, k 10.",
    }
    incomplete = officer.post(ASSESSMENTS, {**answers, "safeguards": ""}, format="json")
    assert incomplete.status_code == 422
    # a key is no person: it cannot sign
    key_officer = key_client(world["city"], Role.PRIVACY_OFFICER)
    assert key_officer.post(ASSESSMENTS, answers, format="json").status_code == 403
    signed = officer.post(ASSESSMENTS, answers, format="json")
    assert signed.status_code == 201, signed.content
    assert signed.json()["signed_by_name"].startswith("person-")
    steward = key_client(world["city"], Role.DATA_STEWARD)
    granted = steward.post(
        GRANTS,
        {"dataset": world["dataset"].pk, "purpose": police.code, "grantee": "politie", "level": "aggregate",
         "assessment": signed.json()["id"], "min_bucket_minutes": 15},
        format="json",
    )  # fmt: skip
    assert granted.status_code == 201, granted.content
    assert granted.json()["repurposing"] is True
    # the assessment serves one grant
    again = steward.post(
        GRANTS,
        {"dataset": world["dataset"].pk, "purpose": police.code, "grantee": "politie", "level": "aggregate",
         "assessment": signed.json()["id"]},
        format="json",
    )  # fmt: skip
    assert again.status_code == 409


def test_only_a_data_steward_of_the_owner_grants_and_foreign_datasets_answer_like_missing(world, key_client):
    police = make_purpose(world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER)
    police_steward = key_client(world["police"], Role.DATA_STEWARD)
    foreign = police_steward.post(
        GRANTS, {"dataset": world["dataset"].pk, "purpose": police.code, "grantee": "politie", "level": "aggregate"}
    )
    missing = police_steward.post(
        GRANTS, {"dataset": 999_999, "purpose": police.code, "grantee": "politie", "level": "aggregate"}
    )
    assert foreign.status_code == missing.status_code == 422
    same = [{**e, "detail": e["detail"].replace(str(world["dataset"].pk), "N")} for e in foreign.json()["errors"]]
    assert same == [{**e, "detail": e["detail"].replace("999999", "N")} for e in missing.json()["errors"]]


def test_open_grants_are_aggregate_only_and_for_public_purposes(world, key_client):
    steward = key_client(world["city"], Role.DATA_STEWARD)
    response = steward.post(
        GRANTS, {"dataset": world["dataset"].pk, "purpose": "stad-crowd-safety", "grantee": None, "level": "aggregate"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 422 and response.json()["code"] == "open_grant_not_allowed"


def test_revoke_needs_a_reason_and_is_kept(world, key_client):
    police = make_purpose(world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER)
    given = grant(world["dataset"], police, world["police"], "aggregate", assess(world["dataset"], police))
    steward = key_client(world["city"], Role.DATA_STEWARD)
    assert steward.post(f"{GRANTS}{given.pk}/revoke/", {}).status_code == 422
    revoked = steward.post(f"{GRANTS}{given.pk}/revoke/", {"reason": "Pilot ended"})
    assert revoked.status_code == 200 and revoked.json()["revoked_reason"] == "Pilot ended"
    assert revoked.json()["in_force"] is False
    # the grantee sees its grant, revoked; a third organisation does not
    assert key_client(world["police"], Role.ANALYST).get(f"{GRANTS}{given.pk}/").status_code == 200
    assert key_client(world["lab"], Role.ADMIN).get(f"{GRANTS}{given.pk}/").status_code == 404


def test_access_events_owners_see_their_datasets_officers_their_purposes_nobody_else(world, key_client):
    police = make_purpose(
        world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER, k_threshold=5
    )
    grant(world["dataset"], police, world["police"], assessment=assess(world["dataset"], police))
    reader = key_client(world["police"], Role.ANALYST)
    assert reader.get(RECORDS, {"dataset": world["dataset"].pk, "purpose": police.code}).status_code == 200
    event = AccessEvent.objects.get()
    for client, sees in (
        (key_client(world["city"], Role.DATA_STEWARD), True),  # the owner
        (key_client(world["police"], Role.PRIVACY_OFFICER), True),  # the purpose's holder's privacy officer
        (key_client(world["police"], Role.ANALYST), False),  # not a role that reads the log
        (key_client(world["police"], Role.ADMIN), False),  # the holder's admin: not its privacy officer
        (key_client(world["lab"], Role.ADMIN), False),  # nobody else
    ):
        listed = client.get(EVENTS)
        detail = client.get(f"{EVENTS}{event.pk}/")
        if sees:
            assert [row["id"] for row in listed.json()["results"]] == [event.pk]
            assert detail.status_code == 200 and detail.json()["purpose_code"] == police.code
        else:
            assert listed.status_code in (200, 403)
            if listed.status_code == 200:
                assert listed.json()["results"] == []
            assert detail.status_code in (403, 404)
    assert APIClient().get(EVENTS).status_code == 401


def test_public_purposes_and_stats_name_no_one(world, api_client, key_client):
    make_purpose(world["city"], "stad-draft", approve=False)
    listed = api_client.get("/api/v1/public/purposes/").json()["results"]
    assert [p["code"] for p in listed] == ["stad-crowd-safety"]
    assert listed[0]["datasets"][0]["id"] == world["dataset"].pk
    assert api_client.get("/api/v1/public/purposes/stad-draft/").status_code == 404
    key_client(world["city"], Role.ANALYST).get(
        RECORDS, {"dataset": world["dataset"].pk, "purpose": "stad-crowd-safety"}
    )
    stats = api_client.get("/api/v1/public/access-stats/").json()
    assert stats == [{"month": stats[0]["month"], "dataset": world["dataset"].pk, "purpose": "stad-crowd-safety",
                      "allowed": 1, "refused": 0}]  # fmt: skip


def test_the_public_register_shows_each_sensors_purposes(world, api_client):
    from sensors.models import SensorStatus

    assert world["gate"].status == SensorStatus.ACTIVE
    sensor = api_client.get(f"/api/v1/public/sensors/{world['gate'].pk}/").json()
    assert [p["code"] for p in sensor["purposes"]] == ["stad-crowd-safety"]
    listed = api_client.get("/api/v1/public/sensors/").json()["results"]
    assert [p["code"] for p in listed[0]["purposes"]] == ["stad-crowd-safety"]


def test_the_processing_register_in_json_and_csv(world, key_client):
    client = key_client(world["city"], Role.PRIVACY_OFFICER)
    register = client.get("/api/v1/organisations/stad/processing-register/")
    assert register.status_code == 200
    activity = register.json()["activities"][0]
    assert activity["purpose"] == "stad-crowd-safety" and activity["legal_basis"] == "GDPR Art. 6(1)(e)"
    assert activity["datasets"][0]["id"] == world["dataset"].pk
    csv = client.get("/api/v1/organisations/stad/processing-register/", {"format": "csv"})
    assert csv.status_code == 200 and b"stad-crowd-safety" in csv.content
    assert (
        key_client(world["police"], Role.ADMIN).get("/api/v1/organisations/stad/processing-register/").status_code
        == 404
    )


def test_an_api_key_limited_to_purposes(world, key_client):
    admin = key_client(world["city"], Role.ADMIN)
    reader = key_client(world["city"], Role.ANALYST)
    prefix = ApiKey.objects.get_from_key(reader.secret).prefix
    make_purpose(world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER)
    foreign = admin.put(f"/api/v1/api-keys/{prefix}/purposes/", {"purposes": ["politie-openbare-orde"]}, format="json")
    assert foreign.status_code == 422
    other = make_purpose(world["city"], "stad-other")
    limited = admin.put(f"/api/v1/api-keys/{prefix}/purposes/", {"purposes": [other.code]}, format="json")
    assert limited.status_code == 200 and limited.json()["purposes"] == ["stad-other"]
    response = reader.get(RECORDS, {"dataset": world["dataset"].pk, "purpose": "stad-crowd-safety"})
    assert response.json()["reason"] == "key_not_for_purpose"
    admin.put(f"/api/v1/api-keys/{prefix}/purposes/", {"purposes": []}, format="json")
    assert reader.get(RECORDS, {"dataset": world["dataset"].pk, "purpose": "stad-crowd-safety"}).status_code == 200


def test_collection_purposes_are_the_owners_and_fixed_once_data_is_held(world, key_client):
    steward = key_client(world["city"], Role.DATA_STEWARD)
    police = make_purpose(world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER)
    url = f"/api/v1/datasets/{world['dataset'].pk}/"
    foreign = steward.patch(url, {"collection_purposes": [police.code]}, format="json")
    assert foreign.status_code == 422  # another's purpose answers like a missing one
    later = make_purpose(world["city"], "stad-later")
    added = steward.patch(url, {"collection_purposes": ["stad-crowd-safety", later.code]}, format="json")
    assert added.status_code == 409 and added.json()["code"] == "collection_purposes_fixed"
    assert list(world["dataset"].collection_purposes.values_list("code", flat=True)) == ["stad-crowd-safety"]
    assert Purpose.objects.filter(code="stad-later").exists()


def test_only_a_privacy_officer_records_a_dpia_and_an_approved_purpose_keeps_it(world, key_client):
    steward, officer = key_client(world["city"], Role.DATA_STEWARD), key_client(world["city"], Role.PRIVACY_OFFICER)
    assert steward.post(PURPOSES, purpose_payload(dpia_status="approved"), format="json").status_code == 403
    steward.post(PURPOSES, purpose_payload(), format="json")
    url = f"{PURPOSES}stad-event-planning/"
    assert steward.patch(url, {"dpia_status": "approved"}).status_code == 403
    assert officer.patch(url, {"dpia_status": "approved"}).status_code == 200
    approved = officer.post(f"{url}approve/")
    assert approved.status_code == 200, approved.content
    # once approved, the DPIA's status is part of what was approved: withdraw to change it
    rejected = officer.patch(url, {"dpia_status": "rejected"})
    assert rejected.status_code == 409
    assert key_client(world["city"], Role.ADMIN).patch(url, {"dpia_status": "draft"}).status_code in (403, 409)
    assert Purpose.objects.get(code="stad-event-planning").dpia_status == "approved"


def test_public_access_stats_show_only_public_purpose_codes(world, api_client, key_client):
    make_purpose(world["city"], "stad-secret-draft", approve=False)
    city = key_client(world["city"], Role.ANALYST)
    city.get(RECORDS, {"dataset": world["dataset"].pk, "purpose": "stad-secret-draft"})
    api_client.get(RECORDS, {"dataset": world["dataset"].pk, "purpose": "call-0800-spam-now"})
    purposes = {row["purpose"] for row in api_client.get("/api/v1/public/access-stats/").json()}
    assert purposes == {"(not public)"}
