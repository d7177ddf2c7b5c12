"""The guard's decision matrix: every refusal reason is reached, and the allowed paths work.

Over HTTP through the first guarded endpoint (GET /api/v1/records/), and through
purposes.services.access_decide for what the records endpoint cannot ask (buckets, areas).
"""

from datetime import timedelta

import orjson
import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.selectors import ANONYMOUS, Caller
from datasets import services as dataset_services
from purposes import services
from purposes.decisions import REASONS, AccessRefused
from purposes.models import AccessEvent, AccessLevel, PurposeCategory
from tests.datasets.conftest import count_record, make_sensor
from tests.factories import MembershipFactory
from tests.purposes.conftest import RECORDS, as_role, assess, grant, make_purpose


def refused(response, reason):
    assert response.status_code == 403, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["reason"] == reason, body
    assert body["detail"]
    return body


def read(client, dataset, purpose=None, **params):
    if purpose is not None:
        params["purpose"] = purpose
    return client.get(RECORDS, {"dataset": dataset.pk, **params})


@pytest.fixture
def city_client(world, key_client):
    return key_client(world["city"], Role.ANALYST)


@pytest.fixture
def police_client(world, key_client):
    return key_client(world["police"], Role.ANALYST)


# The allowed paths -----------------------------------------------------------------------------


@pytest.mark.smoke
def test_the_owner_reads_its_records_under_a_collection_purpose(world, city_client):
    response = city_client.get(RECORDS, {"dataset": world["dataset"].pk}, HTTP_X_PURPOSE="stad-crowd-safety")
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert len(rows) == 11
    assert rows[0]["sensor"] == world["gate"].pk
    # a row with a count from 1 to k - 1 (k = 10) is withheld whole, and says so; zero reveals no one
    assert (rows[0]["count_in"], rows[0]["count_out"], rows[0]["suppressed"]) == (0, 12, [])
    assert (rows[1]["count_in"], rows[1]["count_out"], rows[1]["count"]) == (None, None, None)
    assert rows[1]["suppressed"] == ["count", "count_in", "count_out"]
    assert (rows[2]["count_in"], rows[2]["count"]) == (10, 22)


def test_a_grantee_reads_records_under_its_own_purpose(world, police_client):
    police = make_purpose(
        world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER, k_threshold=5
    )
    grant(world["dataset"], police, world["police"], assessment=assess(world["dataset"], police), k_threshold=5)
    response = read(police_client, world["dataset"], "politie-openbare-orde")
    assert response.status_code == 200, response.content
    assert [row["count_in"] for row in response.json()["results"]][:3] == [0, 5, 10]  # k = 5


def test_the_owner_declares_a_purpose_like_anyone_else(world, city_client):
    refused(read(city_client, world["dataset"]), "purpose_missing")


# Every refusal --------------------------------------------------------------------------------


def test_no_purpose_declared(world, city_client):
    body = refused(read(city_client, world["dataset"]), "purpose_missing")
    assert "X-Purpose" in body["detail"]


def test_header_and_parameter_that_differ_are_a_422(world, city_client):
    response = city_client.get(
        RECORDS, {"dataset": world["dataset"].pk, "purpose": "a"}, HTTP_X_PURPOSE="stad-crowd-safety"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/purpose"


def test_unknown_purpose(world, city_client):
    refused(read(city_client, world["dataset"], "no-such-purpose"), "purpose_unknown")


def test_another_organisations_draft_purpose_is_unknown_to_others(world, police_client):
    make_purpose(world["city"], "stad-draft", approve=False)
    refused(read(police_client, world["dataset"], "stad-draft"), "purpose_unknown")


def test_a_draft_purpose_is_not_in_force_for_its_holder(world, city_client):
    make_purpose(world["city"], "stad-draft", approve=False)
    body = refused(read(city_client, world["dataset"], "stad-draft"), "purpose_not_in_force")
    assert "not approved" in body["detail"]


def test_a_purpose_whose_dpia_is_not_approved_is_not_in_force(world, city_client):
    make_purpose(world["city"], "stad-no-dpia", dpia_status="draft")
    body = refused(read(city_client, world["dataset"], "stad-no-dpia"), "purpose_not_in_force")
    assert "DPIA" in body["detail"]


def test_a_purpose_past_its_validity_is_not_in_force(world, city_client):
    past = timezone.now() - timedelta(days=10)
    make_purpose(world["city"], "stad-old", valid_from=past, valid_until=past + timedelta(days=1))
    refused(read(city_client, world["dataset"], "stad-old"), "purpose_not_in_force")


@pytest.mark.smoke
def test_withdrawal_takes_effect_on_the_next_request(world, city_client):
    assert read(city_client, world["dataset"], "stad-crowd-safety").status_code == 200
    services.purpose_withdraw(
        caller=as_role(world["city"], Role.PRIVACY_OFFICER), purpose=world["safety"], reason="DPIA review"
    )
    refused(read(city_client, world["dataset"], "stad-crowd-safety"), "purpose_withdrawn")


def test_a_purpose_that_does_not_allow_the_level(world, city_client):
    aggregate_only = make_purpose(world["city"], "stad-aggregates", levels=("aggregate",))
    world["dataset"].collection_purposes.add(aggregate_only)
    refused(read(city_client, world["dataset"], "stad-aggregates"), "purpose_level_not_allowed")


def test_acting_under_another_organisations_purpose(world, police_client):
    body = refused(read(police_client, world["dataset"], "stad-crowd-safety"), "not_purpose_holder")
    assert world["city"].name in body["detail"]


def test_a_key_limited_to_other_purposes(world, key_client):
    other = make_purpose(world["city"], "stad-other")
    client = key_client(world["city"], Role.ANALYST)
    from accounts.models import ApiKey

    key = ApiKey.objects.get_from_key(client.secret)
    services.api_key_purposes_set(caller=as_role(world["city"], Role.ADMIN), api_key=key, purposes=[other])
    refused(read(client, world["dataset"], "stad-crowd-safety"), "key_not_for_purpose")


def test_no_grant(world, police_client):
    make_purpose(world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER)
    body = refused(read(police_client, world["dataset"], "politie-openbare-orde"), "no_grant")
    assert "ask its owner" in body["detail"]


def test_a_missing_dataset_answers_exactly_like_one_without_a_grant(world, police_client):
    make_purpose(world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER)
    missing = police_client.get(RECORDS, {"dataset": 999_999, "purpose": "politie-openbare-orde"})
    existing = read(police_client, world["dataset"], "politie-openbare-orde")
    assert missing.json()["reason"] == existing.json()["reason"] == "no_grant"


def test_revocation_takes_effect_on_the_next_request(world, police_client):
    police = make_purpose(world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER)
    given = grant(world["dataset"], police, world["police"], assessment=assess(world["dataset"], police))
    assert read(police_client, world["dataset"], "politie-openbare-orde").status_code == 200
    services.grant_revoke(caller=as_role(world["city"], Role.DATA_STEWARD), grant=given, reason="Pilot ended")
    refused(read(police_client, world["dataset"], "politie-openbare-orde"), "grant_revoked")


def test_an_expired_grant(world, police_client):
    police = make_purpose(world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER)
    past = timezone.now() - timedelta(days=3)
    grant(
        world["dataset"],
        police,
        world["police"],
        assessment=assess(world["dataset"], police),
        valid_from=past,
        valid_until=past + timedelta(days=1),
    )
    refused(read(police_client, world["dataset"], "politie-openbare-orde"), "grant_expired")


def test_a_grant_not_yet_valid(world, police_client):
    police = make_purpose(world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER)
    grant(
        world["dataset"],
        police,
        world["police"],
        assessment=assess(world["dataset"], police),
        valid_from=timezone.now() + timedelta(days=1),
    )
    refused(read(police_client, world["dataset"], "politie-openbare-orde"), "grant_not_yet_valid")


def test_an_aggregate_grant_does_not_give_records(world, police_client):
    police = make_purpose(world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER)
    grant(world["dataset"], police, world["police"], AccessLevel.AGGREGATE, assess(world["dataset"], police))
    body = refused(read(police_client, world["dataset"], "politie-openbare-orde"), "level_not_granted")
    assert "aggregate" in body["detail"]


def test_records_are_too_detailed_for_a_grant_with_a_minimum_bucket(world, police_client):
    police = make_purpose(world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER)
    grant(world["dataset"], police, world["police"], assessment=assess(world["dataset"], police), min_bucket_minutes=15)
    refused(read(police_client, world["dataset"], "politie-openbare-orde"), "too_detailed")


def test_fields_that_are_not_granted(world, police_client):
    police = make_purpose(world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER)
    grant(world["dataset"], police, world["police"], assessment=assess(world["dataset"], police), fields=["count"])
    refused(read(police_client, world["dataset"], "politie-openbare-orde", fields="count_in"), "field_not_granted")
    allowed = read(police_client, world["dataset"], "politie-openbare-orde")
    assert allowed.status_code == 200
    assert "count_in" not in allowed.json()["results"][0]


def test_conditions_are_checked_for_aggregates_never_silently_coarsened(world):
    police = make_purpose(world["police"], "politie-openbare-orde", category=PurposeCategory.PUBLIC_ORDER)
    grant(
        world["dataset"],
        police,
        world["police"],
        AccessLevel.AGGREGATE,
        assess(world["dataset"], police),
        min_bucket_minutes=15,
        area_only=True,
    )
    caller = as_role(world["police"], Role.ANALYST)

    def decide(**params):
        return services.access_decide(
            caller=caller,
            purpose_code="politie-openbare-orde",
            dataset_ids=[world["dataset"].pk],
            level=AccessLevel.AGGREGATE,
            params=params,
        )

    with pytest.raises(AccessRefused) as finer:
        decide(bucket_minutes=5, by="area")
    assert finer.value.reason == "too_detailed"
    with pytest.raises(AccessRefused) as per_sensor:
        decide(bucket_minutes=60, by="sensor")
    assert per_sensor.value.reason == "too_detailed"
    decision = decide(bucket_minutes=60, by="area")
    assert decision.conditions.min_bucket_minutes == 15 and decision.conditions.area_only


def test_every_reason_is_documented(world):
    from pathlib import Path

    errors = (Path(__file__).parents[2] / "docs" / "errors.md").read_text()
    for reason in REASONS:
        assert f"`{reason}`" in errors, reason


# Open data -----------------------------------------------------------------------------------


def test_anonymous_callers_use_an_open_grant_with_its_purpose_declared(world, open_research):
    decision = services.access_decide(
        caller=ANONYMOUS,
        purpose_code="stad-open-research",
        dataset_ids=[world["dataset"].pk],
        level=AccessLevel.AGGREGATE,
        params={"bucket_minutes": 60, "by": "sensor"},
    )
    assert decision.acting_for_id is None and decision.grant_ids


def test_anonymous_callers_without_the_open_purpose_are_refused(world, open_research, api_client):
    refused(read(api_client, world["dataset"]), "purpose_missing")
    refused(read(api_client, world["dataset"], "stad-crowd-safety"), "not_purpose_holder")
    # the open grant is aggregate: no records for anyone through it
    refused(read(api_client, world["dataset"], "stad-open-research"), "purpose_level_not_allowed")


def test_a_person_in_several_organisations_acts_for_the_purposes_holder(world, open_research):
    membership = MembershipFactory(organisation=world["lab"], role=Role.ANALYST)
    MembershipFactory(user=membership.user, organisation=world["city"], role=Role.ANALYST)
    caller = Caller(user=membership.user, roles={world["lab"].pk: Role.ANALYST, world["city"].pk: Role.ANALYST})
    decision = services.access_decide(
        caller=caller,
        purpose_code="stad-crowd-safety",
        dataset_ids=[world["dataset"].pk],
        level=AccessLevel.RECORDS,
    )
    assert decision.acting_for_id == world["city"].pk


# One event per guarded request ----------------------------------------------------------------


@pytest.mark.smoke
def test_every_guarded_request_leaves_exactly_one_event_and_metadata_reads_none(world, city_client, api_client):
    before = AccessEvent.objects.count()
    read(city_client, world["dataset"], "stad-crowd-safety")
    read(city_client, world["dataset"])
    read(city_client, world["dataset"], "nope")
    city_client.get(RECORDS, {"dataset": "x", "purpose": "stad-crowd-safety"})  # 422
    assert AccessEvent.objects.count() == before + 4
    allowed, missing, unknown, invalid = AccessEvent.objects.order_by("at", "id")[before:]
    assert (allowed.decision, allowed.rows, allowed.cells_suppressed) == ("allowed", 11, 3)
    assert allowed.organisation_slug == "stad" and allowed.dataset_ids == [world["dataset"].pk]
    assert (missing.decision, missing.reason) == ("refused", "purpose_missing")
    assert unknown.reason == "purpose_unknown" and unknown.purpose_code == "nope"
    assert invalid.reason == "validation_error" and invalid.status_code == 422
    # metadata reads leave none
    api_client.get("/api/v1/public/datasets/")
    api_client.get("/api/v1/public/purposes/")
    city_client.get(f"/api/v1/datasets/{world['dataset'].pk}/")
    assert AccessEvent.objects.count() == before + 4


def test_callers_refused_before_the_guard_leave_no_event(world, api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Api-Key nope.nope")
    assert read(api_client, world["dataset"], "stad-crowd-safety").status_code == 401
    assert AccessEvent.objects.count() == 0


def test_no_data_leaves_when_the_event_cannot_be_written(world, city_client, monkeypatch):
    from purposes import access_log

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("api.guard.access_event_append", broken)
    assert access_log  # the real appender is replaced above, in the module that calls it
    response = read(city_client, world["dataset"], "stad-crowd-safety")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"] == "application/problem+json"
    assert b"observed_from" not in response.content


@pytest.mark.smoke
@pytest.mark.parametrize("fmt", ["json", "csv", "ndjson"])
def test_records_page_by_keyset_in_every_format(world, city_client, fmt):
    world["dataset"].sensors.add(make_sensor(world["city"], world["city"], "gate-0"))
    dataset_services.records_ingest(
        caller=as_role(world["city"], Role.INTEGRATOR),
        dataset=world["dataset"],
        body=orjson.dumps({"records": [count_record(sensor="gate-0", count_in=20)]}),
        content_type="application/json",
    )
    url, seen, pages = RECORDS, [], 0
    params = {"dataset": world["dataset"].pk, "purpose": "stad-crowd-safety", "page_size": 4, "format": fmt}
    while url:
        response = city_client.get(url, params if pages == 0 else None)
        assert response.status_code == 200, response.content
        pages += 1
        if fmt == "json":
            body = response.json()
            seen += [(row["sensor"], row["observed_from"]) for row in body["results"]]
            url = body["next"]
        else:
            lines = response.content.decode().strip().splitlines()
            seen += lines[1:] if fmt == "csv" else lines
            link = response.headers.get("Link", "")
            url = link[1 : link.index(">")] if link else None
    assert len(seen) == 12 and pages == 3
    if fmt == "json":
        # observed_from order (the primary key's: docs/adr/0008), across pages, no repeats
        assert [at for _, at in seen] == sorted(at for _, at in seen) and len(set(seen)) == 12


def test_a_cursor_that_is_not_ours_is_a_422(world, city_client):
    for cursor in ("nonsense", "W1sxXV0", "WyJ4IiwgIm5vdCBhIGRhdGUiXQ", "W3RydWUsIjIwMjYtMDEtMDVUMTA6MDA6MDBaIl0"):
        response = read(city_client, world["dataset"], "stad-crowd-safety", cursor=cursor)
        assert response.status_code == 422, cursor
        assert response.json()["errors"][0]["pointer"] == "/cursor"


def test_a_decision_over_no_dataset_is_refused(world):
    with pytest.raises(AccessRefused) as refusal:
        services.access_decide(
            caller=as_role(world["city"], Role.ANALYST),
            purpose_code="stad-crowd-safety",
            dataset_ids=[],
            level=AccessLevel.RECORDS,
        )
    assert refusal.value.reason == "no_grant"


def test_a_withheld_count_cannot_be_recovered_from_the_others_in_its_row(world, city_client):
    rows = read(city_client, world["dataset"], "stad-crowd-safety").json()["results"]
    for row in rows:
        if row["suppressed"]:
            # in, out and total are withheld together: no subtraction gives one back
            assert (row["count_in"], row["count_out"], row["count"]) == (None, None, None), row
            assert row["suppressed"] == ["count", "count_in", "count_out"]


def test_early_refusals_name_the_organisation_the_caller_acts_for(world, city_client):
    read(city_client, world["dataset"])
    event = AccessEvent.objects.get()
    assert (event.reason, event.organisation_slug) == ("purpose_missing", "stad")


@pytest.mark.parametrize(
    ("schema", "record", "withheld"),
    [
        # persons in `data`, and the total derived from them, go together
        (
            "distance-keeping",
            {"count_within_1_5m": 2, "count_1_5m_to_3m": 20, "count_beyond_3m": 30},
            ["count", "data.count_1_5m_to_3m", "data.count_beyond_3m", "data.count_within_1_5m"],
        ),
        # a gauge of persons (occupancy) is a number of persons too
        ("area-occupancy", {"occupancy": 3}, ["gauge"]),
    ],
)
def test_every_number_of_persons_the_schema_declares_is_suppressed(world, city_client, schema, record, withheld):
    from tests.datasets.conftest import make_dataset

    dataset = make_dataset(world["city"], code=schema, sensors=[world["gate"]])
    dataset.collection_purposes.set([world["safety"]])
    start = {"sensor": "gate-1", "observed_from": "2026-01-05T10:00:00Z", "observed_to": "2026-01-05T10:05:00Z"}
    if schema == "area-occupancy":
        start = {"sensor": "gate-1", "observed_at": "2026-01-05T10:00:00Z"}
    dataset_services.records_ingest(
        caller=as_role(world["city"], Role.INTEGRATOR),
        dataset=dataset,
        body=orjson.dumps({"records": [{**start, **record}]}),
        content_type="application/json",
    )
    row = read(city_client, dataset, "stad-crowd-safety").json()["results"][0]
    assert row["suppressed"] == withheld
    assert all(value is None for key, value in (row.get("data") or {}).items() if f"data.{key}" in withheld)
    assert all(row[name] is None for name in withheld if not name.startswith("data."))


def test_counts_of_things_other_than_persons_are_not_suppressed(world, city_client):
    from tests.datasets.conftest import make_dataset

    dataset = make_dataset(world["city"], code="sound-anomaly", sensors=[world["gate"]])
    dataset.collection_purposes.set([world["safety"]])
    record = {"sensor": "gate-1", "observed_from": "2026-01-05T10:00:00Z", "observed_to": "2026-01-05T10:01:00Z",
              "level_laeq_db": 61.5, "level_max_db": 80.0, "anomaly_count": 2}  # fmt: skip
    dataset_services.records_ingest(
        caller=as_role(world["city"], Role.INTEGRATOR),
        dataset=dataset,
        body=orjson.dumps({"records": [record]}),
        content_type="application/json",
    )
    row = read(city_client, dataset, "stad-crowd-safety").json()["results"][0]
    assert (row["count"], row["suppressed"]) == (2, [])
