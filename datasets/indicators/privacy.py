"""Privacy of aggregates: small-count suppression, Laplace noise for open grants, and the per-dataset privacy
budget that noise spends (docs/privacy-of-aggregates.md)."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import Role
from accounts.selectors import Caller
from purposes.decisions import AccessDecision, AccessRefused, PurposeRuleBroken
from purposes.models import EPSILON_DIGITS, PrivacyBudget, PrivacySpend

# Epsilon amounts are kept to this many decimals (the budget's columns); a charge is rounded up to it.
EPSILON_STEP = Decimal(1).scaleb(-EPSILON_DIGITS["decimal_places"])
# The largest total an owner may set: the columns hold it, and far beyond it a budget protects nothing.
TOTAL_EPSILON_MAX = Decimal(1_000_000)
# Who sets a dataset's budget: as who grants it (the open grants that spend it).
BUDGET_ROLES = frozenset({Role.DATA_STEWARD})
# Keys the noise's HMAC apart from every other use of SECRET_KEY.
NOISE_SALT = "datasets.indicators.privacy.noise"


def persons_suppressed(contributions: int | None, k: int) -> bool:
    """Whether a cell built from `contributions` persons (or counted passages) is withheld: from 1 to k - 1.

    Zero is shown: it identifies no one. k is never below the platform's minimum, whatever the caller passes."""
    k = max(k, settings.PURPOSE_MIN_K)
    return contributions is not None and 0 < contributions < k


@dataclass(frozen=True)
class NoisePlan:
    """Noise for one dataset read under one open grant."""

    epsilon: float  # per released count: Laplace scale 1/epsilon
    dataset_id: int
    grant_id: int


def noise_plan(decision: AccessDecision, dataset) -> NoisePlan | None:
    """The noise the reader gets on `dataset` (a Dataset or its id): None unless the guard's decision reads it
    under an open grant with `noise_epsilon` set. No query: the decision carries it."""
    dataset_id = getattr(dataset, "pk", dataset)
    found = decision.grant_noise.get(dataset_id)
    if found is None:
        return None
    grant_id, epsilon = found
    return NoisePlan(epsilon=float(epsilon), dataset_id=dataset_id, grant_id=grant_id)


def cell_key(*, scope: str, subject: int, start: datetime, end: datetime, measure: str) -> str:
    """The canonical key of one released number, for `noisy`: the same number asked for twice, through
    whichever indicator or format, must get the same noise (else averaging the answers removes it). The
    moments in UTC, so that the requested time zone does not change the key."""
    return f"{scope}:{subject}|{_utc(start)}|{_utc(end)}|{measure}"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _uniform(plan: NoisePlan, key: str) -> float:
    """A number in the open interval (0, 1) from HMAC-SHA256 under a key derived from SECRET_KEY: fixed per
    (dataset, grant, cell), unpredictable without the secret."""
    digest = salted_hmac(NOISE_SALT, f"{plan.dataset_id}|{plan.grant_id}|{key}", algorithm="sha256").digest()
    bits = int.from_bytes(digest[:8], "big") >> 11  # 53 bits: every double in [0, 1) with that spacing
    return (bits + 0.5) / 2**53


def laplace_noise(plan: NoisePlan, key: str) -> float:
    """A draw from Laplace(0, 1/epsilon) by the inverse of its distribution function, from `_uniform`."""
    u = _uniform(plan, key) - 0.5  # in (-0.5, 0.5), never at either end: the logarithm stays finite
    return -math.copysign(1.0, u) * math.log1p(-2.0 * abs(u)) / plan.epsilon


def noisy(plan: NoisePlan, cell_key: str, value: float | None, *, integer: bool = True) -> float | None:
    """`value` plus Laplace(0, 1/epsilon) noise, the same every time for this (secret, dataset, grant, cell):
    repeating a query cannot average the noise away. A count (`integer`, the default) is rounded to a whole
    number and never below zero, which is post-processing and costs no privacy. None stays None."""
    if value is None:
        return None
    result = value + laplace_noise(plan, cell_key)
    if integer:
        return max(0, round(result))
    return result


def _cost(plan: NoisePlan, counts: int) -> Decimal:
    # Rounded up: a charge is never less than what was released.
    return (Decimal(repr(plan.epsilon)) * counts).quantize(EPSILON_STEP, rounding=ROUND_CEILING)


def default_total() -> Decimal:
    return Decimal(repr(float(settings.PRIVACY_BUDGET_DEFAULT_EPSILON))).quantize(EPSILON_STEP)


def _charge(dataset_id: int, cost: Decimal, total_default: Decimal) -> tuple[Decimal, Decimal] | None:
    """Add `cost` to the dataset's spent epsilon if it stays within the total, in one statement: concurrent
    charges serialise on the row, and each re-reads what the one before it left (PostgreSQL re-evaluates
    the WHERE on the updated row). (spent, total) after it, or None: no row, or over the total."""
    table = PrivacyBudget._meta.db_table
    sql = (
        f"UPDATE {table} SET spent_epsilon = spent_epsilon + %s "  # noqa: S608 (the table from the model)
        "WHERE dataset_id = %s AND spent_epsilon + %s <= COALESCE(total_epsilon, %s) "
        "RETURNING spent_epsilon, COALESCE(total_epsilon, %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [cost, dataset_id, cost, total_default, total_default])
        row = cursor.fetchone()
    if row is None:
        return None
    return _decimal(row[0]), _decimal(row[1])


def _decimal(value) -> Decimal:
    return Decimal(str(value)).quantize(EPSILON_STEP)


def _state(spent: Decimal, total: Decimal, epsilon: float | None = None) -> dict:
    state = {"spent": float(spent), "total": float(total), "remaining": float(max(total - spent, Decimal(0)))}
    if epsilon is not None:
        state = {"epsilon_per_count": epsilon, **state}
    return state


def spend(plan: NoisePlan, *, counts: int, purpose_code: str) -> dict:
    """Charge `counts` x epsilon to the dataset's privacy budget, in the caller's transaction (a savepoint
    within it), and write the charge to the ledger; or raise AccessRefused('privacy_budget_spent') when the
    budget does not cover it, charging nothing. Returns {epsilon_per_count, spent, total, remaining}."""
    if counts < 0:
        raise ValueError("counts must not be negative")
    total_default = default_total()
    if counts == 0:
        return _state(*budget_state(plan.dataset_id, total_default), plan.epsilon)
    cost = _cost(plan, counts)
    with transaction.atomic():
        charged = _charge(plan.dataset_id, cost, total_default)
        if charged is None and not PrivacyBudget.objects.filter(pk=plan.dataset_id).exists():
            # The dataset's first charge: its row, then the same conditional charge (a concurrent first
            # charge may have made the row meanwhile; ignoring the conflict, both charge it in turn).
            PrivacyBudget.objects.bulk_create([PrivacyBudget(dataset_id=plan.dataset_id)], ignore_conflicts=True)
            charged = _charge(plan.dataset_id, cost, total_default)
        if charged is None:
            spent, total = budget_state(plan.dataset_id, total_default)
            raise AccessRefused(
                "privacy_budget_spent",
                dataset=plan.dataset_id,
                needed=_shown(cost),
                remaining=_shown(max(total - spent, Decimal(0))),
            )
        PrivacySpend.objects.create(
            dataset_id=plan.dataset_id,
            epsilon=cost,
            counts=counts,
            epsilon_per_count=plan.epsilon,
            purpose_code=purpose_code,
            grant_id=plan.grant_id,
        )
    return _state(*charged, plan.epsilon)


def _shown(amount: Decimal) -> str:
    return f"{amount.normalize():f}"


def budget_state(dataset_id: int, total_default: Decimal | None = None) -> tuple[Decimal, Decimal]:
    """(spent, total) of a dataset's budget; no row: nothing spent, the default total."""
    total_default = default_total() if total_default is None else total_default
    row = PrivacyBudget.objects.filter(pk=dataset_id).values_list("spent_epsilon", "total_epsilon").first()
    if row is None:
        return Decimal(0).quantize(EPSILON_STEP), total_default
    spent, total = row
    return _decimal(spent), (total_default if total is None else _decimal(total))


def privacy_budget_view(dataset) -> dict:
    """The dataset's budget as the API shows it. Reads `dataset.privacy_budget` (select it with the dataset:
    `select_related("privacy_budget")`, else one query)."""
    try:
        budget = dataset.privacy_budget
    except PrivacyBudget.DoesNotExist:
        budget = None
    total_default = default_total()
    spent = _decimal(budget.spent_epsilon) if budget else Decimal(0)
    own = budget is not None and budget.total_epsilon is not None
    total = _decimal(budget.total_epsilon) if own else total_default
    return {
        "total_epsilon": float(total),
        "spent_epsilon": float(spent),
        "remaining_epsilon": float(max(total - spent, Decimal(0))),
        "default_total": not own,
        "reset_at": budget.reset_at if budget else None,
    }


_UNSET = object()


@transaction.atomic
def privacy_budget_change(*, caller: Caller, dataset, total_epsilon=_UNSET, reset: bool = False) -> PrivacyBudget:
    """The owner sets its dataset's total epsilon (None: back to the platform's default) and/or sets what was
    spent back to zero. A reset gives readers the whole budget again: the ledger keeps every earlier charge."""
    if not caller.has_role(BUDGET_ROLES, organisation_id=dataset.owner_id):
        raise PurposeRuleBroken(
            "Only a data steward of the dataset's owner sets its privacy budget.", code="not_data_steward", status=403
        )
    if total_epsilon is not _UNSET and total_epsilon is not None:
        total_epsilon = Decimal(str(total_epsilon))
        if not total_epsilon.is_finite() or not (0 <= total_epsilon <= TOTAL_EPSILON_MAX):
            raise PurposeRuleBroken(
                f"total_epsilon is from 0 (no noisy answers) to {TOTAL_EPSILON_MAX}; null: the platform's default.",
                code="out_of_range",
                pointer="/total_epsilon",
            )
        total_epsilon = total_epsilon.quantize(EPSILON_STEP, rounding=ROUND_CEILING)
    PrivacyBudget.objects.bulk_create([PrivacyBudget(dataset_id=dataset.pk)], ignore_conflicts=True)
    budget = PrivacyBudget.objects.select_for_update().get(pk=dataset.pk)
    now = timezone.now()
    if total_epsilon is not _UNSET:
        budget.total_epsilon = total_epsilon
    if reset:
        budget.spent_epsilon, budget.reset_at = Decimal(0), now
    budget.changed_at = now
    if caller.user is not None:
        budget.changed_by_name = caller.user.get_username()
    elif caller.api_key is not None:
        budget.changed_by_name = f"api-key:{caller.api_key.prefix}"
    budget.save()
    dataset.privacy_budget = budget
    return budget
