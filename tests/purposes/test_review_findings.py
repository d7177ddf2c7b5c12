"""What an outside review found in the guard, each held by a test that failed before its fix."""

import base64

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiKey, Role
from purposes import services
from purposes.models import AccessEvent, AccessLevel, PurposeCategory
from tests.purposes.conftest import RECORDS, as_role, assess, grant, make_purpose

COUNTS = "/api/v1/aggregates/counts/"


def test_a_key_limited_to_purposes_cannot_use_another_organisations_open_grant(world, open_research, key_client):
    own = make_purpose(world["police"], "politie-orde", category=PurposeCategory.PUBLIC_ORDER)
    client = key_client(world["police"], Role.ANALYST)
    key = ApiKey.objects.get_from_key(client.secret)
    services.api_key_purposes_set(caller=as_role(world["police"], Role.ADMIN), api_key=key, purposes=[own])
    response = client.get(COUNTS, {"dataset": world["dataset"].pk, "purpose": open_research.code})
    assert (response.status_code, response.json()["reason"]) == (403, "key_not_for_purpose")


def test_integrators_send_data_in_and_do_not_read_it_back(world, key_client):
    response = key_client(world["city"], Role.INTEGRATOR).get(
        RECORDS, {"dataset": world["dataset"].pk, "purpose": "stad-crowd-safety"}
    )
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert not AccessEvent.objects.exists()  # refused before the guard: nothing decided, nothing read


def test_options_and_other_methods_decide_nothing(world, key_client):
    client = key_client(world["city"], Role.ANALYST)
    assert client.options(RECORDS).status_code == 200
    assert client.post(RECORDS, {}).status_code == 405
    assert not AccessEvent.objects.exists()


def test_a_withdrawn_purpose_cannot_be_rewritten_and_reapproved_with_its_grants(world, key_client):
    police = make_purpose(world["police"], "politie-orde", category=PurposeCategory.PUBLIC_ORDER)
    grant(world["dataset"], police, world["police"], AccessLevel.AGGREGATE, assess(world["dataset"], police))
    services.purpose_withdraw(caller=as_role(world["police"], Role.PRIVACY_OFFICER), purpose=police, reason="x")
    steward = key_client(world["police"], Role.DATA_STEWARD)
    response = steward.patch("/api/v1/purposes/politie-orde/", {"decision": "Stop and search"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "purpose_approved"


@pytest.mark.parametrize("purpose", ["two words", "x" * 81])
def test_purpose_codes_that_cannot_be_codes_are_unknown_and_logged(world, key_client, purpose):
    response = key_client(world["city"], Role.ANALYST).get(
        RECORDS, {"dataset": world["dataset"].pk, "purpose": purpose, "odd": "\ufffe"}
    )
    assert (response.status_code, response.json()["reason"]) == (403, "purpose_unknown")
    event = AccessEvent.objects.get()
    assert event.purpose_code == purpose[:80] and event.params["odd"] == "\ufffe"


@pytest.mark.parametrize("query", [{"purpose": "a\x00b"}, {"odd": "\x00"}])
def test_a_nul_in_the_query_of_a_data_request_is_refused_before_the_guard(world, key_client, query):
    response = key_client(world["city"], Role.ANALYST).get(
        RECORDS, {"dataset": world["dataset"].pk, "purpose": "stad-crowd-safety", **query}
    )
    assert (response.status_code, response.json()["code"]) == (400, "null_character")
    assert not AccessEvent.objects.exists()  # nothing was decided, as for a 401 or a 429


def test_odd_path_values_on_purposes_are_404(world, key_client):
    assert APIClient().get("/api/v1/public/purposes/%00/").status_code == 404
    officer = key_client(world["city"], Role.PRIVACY_OFFICER)
    assert officer.post("/api/v1/purposes/%00/approve/").status_code == 404


def test_a_cursor_of_the_wrong_kind_for_the_dataset_is_a_422(world, key_client):
    cursor = base64.urlsafe_b64encode(b'["abc","2026-01-05T10:00:00Z"]').decode().rstrip("=")
    response = key_client(world["city"], Role.ANALYST).get(
        RECORDS, {"dataset": world["dataset"].pk, "purpose": "stad-crowd-safety", "cursor": cursor}
    )
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/cursor"


def test_fields_asked_for_are_the_fields_served(world, key_client):
    rows = key_client(world["city"], Role.ANALYST).get(
        RECORDS, {"dataset": world["dataset"].pk, "purpose": "stad-crowd-safety", "fields": "count"}
    )
    assert set(rows.json()["results"][0]) == {"sensor", "series", "observed_from", "observed_to", "count", "suppressed"}


def test_a_day_cannot_be_narrowed_to_an_hour(world, key_client):
    police = make_purpose(world["police"], "politie-orde", category=PurposeCategory.PUBLIC_ORDER)
    grant(
        world["dataset"],
        police,
        world["police"],
        AccessLevel.AGGREGATE,
        assess(world["dataset"], police),
        min_bucket_minutes=24 * 60,
    )
    client = key_client(world["police"], Role.ANALYST)
    query = {"dataset": world["dataset"].pk, "purpose": "politie-orde", "bucket": "day"}
    narrowed = client.get(COUNTS, {**query, "from": "2026-01-05T10:00:00Z", "to": "2026-01-05T11:00:00Z"})
    assert narrowed.status_code == 422 and narrowed.json()["errors"][0]["pointer"] == "/from"
    whole = client.get(COUNTS, {**query, "from": "2026-01-05T00:00:00Z", "to": "2026-01-06T00:00:00Z"})
    assert whole.status_code == 200 and len(whole.json()["results"]) == 1


def test_filtering_grants_by_another_organisations_dataset_answers_like_a_missing_one(world, key_client):
    from tests.datasets.conftest import make_dataset

    hidden = make_dataset(world["city"], access="restricted")
    client = key_client(world["police"], Role.ADMIN)
    foreign, missing = (
        client.get("/api/v1/grants/", {"dataset": hidden.pk}),
        client.get("/api/v1/grants/", {"dataset": 999_999}),
    )
    assert foreign.status_code == missing.status_code == 200
    assert foreign.json()["results"] == missing.json()["results"] == []


def test_a_withdrawn_purpose_that_was_never_public_stays_unknown_to_others(world, key_client):
    hidden = make_purpose(world["city"], "stad-never-public", dpia_status="draft")
    services.purpose_withdraw(caller=as_role(world["city"], Role.PRIVACY_OFFICER), purpose=hidden, reason="x")
    response = key_client(world["police"], Role.ANALYST).get(
        RECORDS, {"dataset": world["dataset"].pk, "purpose": hidden.code}
    )
    assert response.json()["reason"] == "purpose_unknown"
