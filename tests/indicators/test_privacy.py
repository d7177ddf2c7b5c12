"""Privacy of aggregates (datasets.indicators.privacy): suppression at its edges, Laplace noise that is
Laplace and fixed per cell, the per-dataset budget (refusal, concurrency, ledger), noise only on open
grants, the owner's budget through the API, and the migration there and back."""

import math
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from accounts.models import Role
from datasets.indicators import privacy
from datasets.indicators.privacy import NoisePlan, noise_plan, noisy, persons_suppressed, spend
from purposes import services as purpose_services
from purposes.decisions import AccessRefused, PurposeRuleBroken
from purposes.models import AccessLevel, Grant, PrivacyBudget, PrivacySpend, PurposeCategory
from tests.purposes import conftest as purpose_world
from tests.purposes.conftest import as_role, assess, grant, make_purpose

world = purpose_world.world  # the fixture: a city's dataset with records, the police, a research lab

FIXED_SECRET = "a-fixed-secret-for-the-noise-tests-" + "x" * 40


def open_grant(world, *, noise_epsilon=0.5, code="stad-open-research"):
    """An open grant of the city's dataset to a research purpose of the police (not a collection purpose, so
    anyone reads it through the grant)."""
    research = make_purpose(world["police"], code, levels=("aggregate",), category=PurposeCategory.RESEARCH)
    assessment = None
    if purpose_services.is_repurposing(world["dataset"], research):
        assessment = assess(world["dataset"], research)
    return grant(
        world["dataset"], research, None, AccessLevel.AGGREGATE, assessment=assessment, noise_epsilon=noise_epsilon
    )


def decide(caller, code, dataset):
    return purpose_services.access_decide(
        caller=caller,
        purpose_code=code,
        dataset_ids=[dataset.pk],
        level=AccessLevel.AGGREGATE,
        params={"bucket_minutes": 60, "by": "area"},
    )


# --- suppression -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contributions", "k", "suppressed"),
    [
        (None, 10, False),  # no data: nothing to withhold
        (0, 10, False),  # zero identifies no one
        (1, 10, True),
        (9, 10, True),  # k - 1
        (10, 10, False),  # k
        (11, 10, False),
        (4, 5, True),
        (5, 5, False),
        (4, 2, True),  # k below the platform's minimum (5) is raised to it
        (5, 2, False),
        (19, 20, True),  # a grant's stricter k
    ],
)
def test_a_cell_of_1_to_k_minus_1_contributions_is_suppressed(contributions, k, suppressed):
    assert persons_suppressed(contributions, k) is suppressed


# --- noise -------------------------------------------------------------------------------------------

PLAN = NoisePlan(epsilon=0.5, dataset_id=7, grant_id=3)


def laplace_cdf(x: float, scale: float) -> float:
    return 0.5 * math.exp(x / scale) if x < 0 else 1 - 0.5 * math.exp(-x / scale)


@override_settings(SECRET_KEY=FIXED_SECRET)  # the draws are fixed by the secret: this test cannot flake
@pytest.mark.parametrize("epsilon", [0.1, 0.5, 2.0])
def test_the_noise_is_laplace_with_scale_one_over_epsilon(epsilon):
    plan = NoisePlan(epsilon=epsilon, dataset_id=7, grant_id=3)
    n = 20_000
    draws = sorted(privacy.laplace_noise(plan, f"area:1|cell-{i}|count") for i in range(n))
    scale = 1 / epsilon
    mean = sum(draws) / n
    # Laplace(0, b): mean 0 (standard deviation b * sqrt(2)), mean absolute value b.
    assert abs(mean) < 4 * scale * math.sqrt(2) / math.sqrt(n)
    assert sum(abs(x) for x in draws) / n == pytest.approx(scale, rel=0.03)
    # Kolmogorov-Smirnov distance to Laplace(0, 1/epsilon), below the 0.1 % critical value 1.95/sqrt(n).
    distance = max(max((i + 1) / n - laplace_cdf(x, scale), laplace_cdf(x, scale) - i / n) for i, x in enumerate(draws))
    assert distance < 1.95 / math.sqrt(n)
    # And not some other symmetric noise of the same mean absolute value (a Gaussian, say): its tails.
    beyond = sum(1 for x in draws if abs(x) > 3 * scale) / n
    assert beyond == pytest.approx(math.exp(-3), abs=0.006)


@override_settings(SECRET_KEY=FIXED_SECRET)
def test_the_noise_is_the_same_for_a_cell_every_time_and_differs_between_cells():
    assert noisy(PLAN, "area:1|a|count", 812) == noisy(PLAN, "area:1|a|count", 812)
    assert privacy.laplace_noise(PLAN, "k") == privacy.laplace_noise(NoisePlan(0.5, 7, 3), "k")
    values = {privacy.laplace_noise(PLAN, f"area:1|cell-{i}|count") for i in range(200)}
    assert len(values) == 200
    # Another grant or dataset of the same cell: other noise.
    assert privacy.laplace_noise(PLAN, "k") != privacy.laplace_noise(NoisePlan(0.5, 7, 4), "k")
    assert privacy.laplace_noise(PLAN, "k") != privacy.laplace_noise(NoisePlan(0.5, 8, 3), "k")


def test_the_noise_depends_on_the_secret_key():
    with override_settings(SECRET_KEY=FIXED_SECRET):
        first = privacy.laplace_noise(PLAN, "k")
    with override_settings(SECRET_KEY=FIXED_SECRET + "y"):
        second = privacy.laplace_noise(PLAN, "k")
    assert first != second


@override_settings(SECRET_KEY=FIXED_SECRET)
def test_a_noisy_count_is_a_whole_number_never_below_zero_and_none_stays_none():
    counts = [noisy(PLAN, f"cell-{i}", 1) for i in range(500)]
    assert all(isinstance(count, int) and count >= 0 for count in counts)
    assert 0 in counts and any(count > 1 for count in counts)  # scale 2 around 1: clamped often, spread
    assert noisy(PLAN, "cell", None) is None
    exact = noisy(PLAN, "cell", 10.0, integer=False)
    assert exact == 10.0 + privacy.laplace_noise(PLAN, "cell")


def test_a_cell_key_is_the_same_in_every_time_zone():
    from zoneinfo import ZoneInfo

    start = datetime(2026, 3, 29, 1, tzinfo=UTC)
    end = datetime(2026, 3, 29, 2, tzinfo=UTC)
    amsterdam = ZoneInfo("Europe/Amsterdam")
    key = privacy.cell_key(scope="area", subject=7, start=start, end=end, measure="count")
    assert key == "area:7|2026-03-29T01:00:00Z|2026-03-29T02:00:00Z|count"
    local = privacy.cell_key(
        scope="area", subject=7, start=start.astimezone(amsterdam), end=end.astimezone(amsterdam), measure="count"
    )
    assert local == key


# --- noise only on open grants --------------------------------------------------------------------------


def test_noise_is_planned_for_a_reader_under_an_open_grant_with_noise_only(world):
    noisy_grant = open_grant(world, noise_epsilon=0.25)
    anyone = as_role(world["lab"], Role.ANALYST)
    plan = noise_plan(decide(anyone, "stad-open-research", world["dataset"]), world["dataset"])
    assert plan == NoisePlan(epsilon=0.25, dataset_id=world["dataset"].pk, grant_id=noisy_grant.pk)
    # The owner reading under its own collection purpose: exact figures.
    owner = as_role(world["city"], Role.ANALYST)
    assert noise_plan(decide(owner, "stad-crowd-safety", world["dataset"]), world["dataset"]) is None
    # An open grant without noise.
    open_grant(world, noise_epsilon=None, code="stad-open-plain")
    assert noise_plan(decide(anyone, "stad-open-plain", world["dataset"]), world["dataset"].pk) is None


def test_a_named_grant_is_chosen_before_an_open_one_with_noise(world):
    """The purpose's holder has its own grant and there is an open one with noise (made first): it reads
    under its own grant, exact, and spends no one's budget."""
    open_grant(world, noise_epsilon=0.5, code="politie-research")
    research = world["dataset"].grants.get().purpose
    named = grant(
        world["dataset"],
        research,
        world["police"],
        AccessLevel.AGGREGATE,
        assessment=assess(world["dataset"], research),
    )
    decision = decide(as_role(world["police"], Role.ANALYST), "politie-research", world["dataset"])
    assert decision.grant_ids == (named.pk,)
    assert noise_plan(decision, world["dataset"]) is None
    # Anyone else: the open grant, with noise.
    decision = decide(as_role(world["lab"], Role.ANALYST), "politie-research", world["dataset"])
    assert noise_plan(decision, world["dataset"]) is not None


@pytest.mark.parametrize("epsilon", [0, -1, 10.5, math.inf, math.nan])
def test_noise_out_of_range_is_refused_with_a_pointer(world, epsilon):
    with pytest.raises(PurposeRuleBroken) as refused:
        open_grant(world, noise_epsilon=epsilon)
    assert (refused.value.code, refused.value.pointer) == ("out_of_range", "/noise_epsilon")
    assert not Grant.objects.filter(dataset=world["dataset"]).exists()


def test_noise_on_a_named_grant_is_refused_with_a_pointer(world):
    research = make_purpose(world["police"], "politie-research", levels=("aggregate",))
    with pytest.raises(PurposeRuleBroken) as refused:
        grant(
            world["dataset"],
            research,
            world["police"],
            AccessLevel.AGGREGATE,
            assessment=assess(world["dataset"], research),
            noise_epsilon=1.0,
        )
    assert (refused.value.code, refused.value.pointer) == ("noise_on_named_grant", "/noise_epsilon")


def test_the_database_refuses_noise_out_of_range_and_on_named_grants(world):
    research = make_purpose(world["police"], "politie-research", levels=("aggregate",))
    named = grant(
        world["dataset"],
        research,
        world["police"],
        AccessLevel.AGGREGATE,
        assessment=assess(world["dataset"], research),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Grant.objects.filter(pk=named.pk).update(noise_epsilon=1.0)
    opened = open_grant(world, noise_epsilon=None, code="stad-open-research")
    for epsilon in (0.0, 10.01):
        with pytest.raises(IntegrityError), transaction.atomic():
            Grant.objects.filter(pk=opened.pk).update(noise_epsilon=epsilon)
    Grant.objects.filter(pk=opened.pk).update(noise_epsilon=10.0)


def test_the_grant_api_sets_noise_and_refuses_it_on_a_named_grant_with_a_pointer(world, key_client):
    client = key_client(world["city"], Role.DATA_STEWARD)
    research = make_purpose(
        world["city"], "stad-open-research", levels=("aggregate",), category=PurposeCategory.RESEARCH
    )
    world["dataset"].collection_purposes.add(research)
    body = {"dataset": world["dataset"].pk, "purpose": "stad-open-research", "level": "aggregate"}
    response = client.post("/api/v1/grants/", {**body, "grantee": "stad", "noise_epsilon": 1}, format="json")
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["pointer"] == "/noise_epsilon"
    response = client.post("/api/v1/grants/", {**body, "grantee": None, "noise_epsilon": 0.5}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["noise_epsilon"] == 0.5
    assert Grant.objects.get(pk=response.json()["id"]).noise_epsilon == 0.5


# --- the budget -------------------------------------------------------------------------------------------


def ledger(dataset):
    return list(PrivacySpend.objects.filter(dataset=dataset).values_list("counts", "epsilon", "purpose_code"))


@override_settings(PRIVACY_BUDGET_DEFAULT_EPSILON=10.0)
def test_spending_charges_epsilon_per_count_writes_the_ledger_and_refuses_past_the_total(world):
    noisy_grant = open_grant(world, noise_epsilon=0.1)
    plan = NoisePlan(epsilon=0.1, dataset_id=world["dataset"].pk, grant_id=noisy_grant.pk)
    assert not PrivacyBudget.objects.exists()  # no row until the first charge: the default total
    first = spend(plan, counts=48, purpose_code="stad-open-research")
    assert first == {"epsilon_per_count": 0.1, "spent": 4.8, "total": 10.0, "remaining": pytest.approx(5.2)}
    second = spend(plan, counts=52, purpose_code="stad-open-research")
    assert (second["spent"], second["remaining"]) == (10.0, 0.0)  # exactly the total: allowed, no float drift
    with pytest.raises(AccessRefused) as refused:
        spend(plan, counts=1, purpose_code="stad-open-research")
    assert refused.value.reason == "privacy_budget_spent"
    assert "costs epsilon 0.1 and 0 is left" in refused.value.detail
    assert ledger(world["dataset"]) == [
        (48, Decimal("4.8"), "stad-open-research"),
        (52, Decimal("5.2"), "stad-open-research"),
    ]
    budget = PrivacyBudget.objects.get(dataset=world["dataset"])
    assert budget.spent_epsilon == Decimal("10") == sum(spent for _, spent, _ in ledger(world["dataset"]))
    # Nothing released, nothing charged (and no refusal).
    assert spend(plan, counts=0, purpose_code="stad-open-research")["remaining"] == 0.0
    assert len(ledger(world["dataset"])) == 2


def test_the_ledger_is_append_only(world):
    noisy_grant = open_grant(world, noise_epsilon=0.5)
    spend(NoisePlan(0.5, world["dataset"].pk, noisy_grant.pk), counts=2, purpose_code="stad-open-research")
    spent = PrivacySpend.objects.filter(dataset=world["dataset"])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        spent.update(counts=1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        spent.delete()
    assert list(spent.values_list("counts", flat=True)) == [2]


def test_the_owner_sets_raises_and_resets_the_budget(world):
    noisy_grant = open_grant(world, noise_epsilon=0.5)
    plan = NoisePlan(0.5, world["dataset"].pk, noisy_grant.pk)
    steward = as_role(world["city"], Role.DATA_STEWARD)
    privacy.privacy_budget_change(caller=steward, dataset=world["dataset"], total_epsilon=1)
    spend(plan, counts=2, purpose_code="x")
    with pytest.raises(AccessRefused):
        spend(plan, counts=1, purpose_code="x")
    privacy.privacy_budget_change(caller=steward, dataset=world["dataset"], total_epsilon=1.5)
    spend(plan, counts=1, purpose_code="x")
    budget = privacy.privacy_budget_change(caller=steward, dataset=world["dataset"], reset=True)
    assert budget.spent_epsilon == 0 and budget.reset_at is not None
    assert spend(plan, counts=3, purpose_code="x")["remaining"] == 0.0
    assert len(ledger(world["dataset"])) == 3  # a reset keeps the ledger
    for caller in (as_role(world["city"], Role.ANALYST), as_role(world["police"], Role.DATA_STEWARD)):
        with pytest.raises(PurposeRuleBroken):
            privacy.privacy_budget_change(caller=caller, dataset=world["dataset"], total_epsilon=100)
    for total in (-1, math.inf, math.nan, 10**7):
        with pytest.raises(PurposeRuleBroken) as refused:
            privacy.privacy_budget_change(caller=steward, dataset=world["dataset"], total_epsilon=total)
        assert refused.value.pointer == "/total_epsilon"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("row_exists", [True, False], ids=["budget-row", "first-charge"])
def test_two_concurrent_spends_near_the_limit_cannot_both_pass(world, row_exists):
    """The first charge holds its transaction open; the second, on its own connection, must wait for it and
    then see what it spent: 0.6 + 0.6 > 1, so exactly one passes."""
    if connection.vendor != "postgresql":
        pytest.skip("two connections to one database: PostgreSQL")
    noisy_grant = open_grant(world, noise_epsilon=0.3)
    plan = NoisePlan(0.3, world["dataset"].pk, noisy_grant.pk)
    if row_exists:
        PrivacyBudget.objects.create(dataset=world["dataset"], total_epsilon=1)
    else:
        override = override_settings(PRIVACY_BUDGET_DEFAULT_EPSILON=1.0)
        override.enable()
    charged, release, results = threading.Event(), threading.Event(), {}

    def charge(name):
        try:
            with transaction.atomic():
                results[name] = spend(plan, counts=2, purpose_code="stad-open-research")
                if name == "first":
                    charged.set()
                    release.wait(10)  # inside the first charge's transaction, its row updated
        except AccessRefused as refused:
            results[name] = refused.reason
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            results[name] = error
        finally:
            connection.close()  # this thread's own connection

    try:
        first = threading.Thread(target=charge, args=("first",))
        second = threading.Thread(target=charge, args=("second",))
        first.start()
        assert charged.wait(10)
        second.start()
        second.join(1.0)
        waited = second.is_alive()
        release.set()
        first.join(10)
        second.join(10)
    finally:
        if not row_exists:
            override.disable()
    assert waited  # the second charge waited for the first's row
    assert results["first"]["spent"] == 0.6
    assert results["second"] == "privacy_budget_spent"
    assert PrivacyBudget.objects.get(dataset=world["dataset"]).spent_epsilon == Decimal("0.6")
    assert ledger(world["dataset"]) == [(2, Decimal("0.6"), "stad-open-research")]


def test_a_spent_budget_is_a_403_problem_with_its_reason():
    from api.problems import problem_exception_handler

    refused = AccessRefused("privacy_budget_spent", dataset=3, needed="4.8", remaining="0.2")
    response = problem_exception_handler(refused, {})
    assert response.status_code == 403
    assert response.data["reason"] == "privacy_budget_spent"
    assert "dataset 3" in response.data["detail"] and "4.8" in response.data["detail"]


# --- the migration there and back ------------------------------------------------------------------------

BEFORE = ("purposes", "0003_access_log_datasets_keyed_by_dataset")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrating_back_and_forward_keeps_the_grants(world):
    opened = open_grant(world, noise_epsilon=None)
    try:
        call_command("migrate", *BEFORE, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM purposes_grant")
            assert [row[0] for row in cursor.fetchall()] == [opened.pk]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    found = Grant.objects.get(pk=opened.pk)
    assert found.noise_epsilon is None and found.k_threshold == opened.k_threshold
    Grant.objects.filter(pk=opened.pk).update(noise_epsilon=0.5)
    spend(NoisePlan(0.5, world["dataset"].pk, opened.pk), counts=1, purpose_code="stad-open-research")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PrivacySpend.objects.all().delete()  # the ledger's triggers are back
