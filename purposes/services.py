"""Writes for purpose binding (purposes, approvals, assessments, grants) and the guard's decision.

Every rule of purpose binding is decided here; the API layer only parses input and maps the domain
errors (`PurposeRuleBroken`, `AccessRefused`) to problem+json.
"""

import math
import re
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import ApiKey, Organisation, Role
from accounts.selectors import Caller
from datasets.models import Dataset
from purposes.decisions import PURPOSE_CODE_PATTERN, AccessDecision, AccessRefused, Conditions, PurposeRuleBroken
from purposes.managers import DECISION_TOKEN
from purposes.models import (
    LEVEL_RANK,
    NOISE_EPSILON_MAX,
    PUBLIC_CATEGORIES,
    AccessLevel,
    ApiKeyPurpose,
    CompatibilityAssessment,
    DpiaStatus,
    Grant,
    Purpose,
    PurposeDecision,
    PurposeStatus,
)

DECLARING_ROLES = frozenset({Role.ADMIN, Role.DATA_STEWARD, Role.PRIVACY_OFFICER})
# Who reads data for an organisation: not its integrators (machines that send data in).
READING_ROLES = frozenset({Role.ADMIN, Role.DATA_STEWARD, Role.PRIVACY_OFFICER, Role.ANALYST})
PURPOSE_CODE = re.compile(rf"^{PURPOSE_CODE_PATTERN}$")
APPROVING_ROLES = frozenset({Role.PRIVACY_OFFICER})
GRANTING_ROLES = frozenset({Role.DATA_STEWARD})
ASSESSING_ROLES = frozenset({Role.PRIVACY_OFFICER})

# Fields of an approved purpose that may still change: the rest is what was approved.
CHANGEABLE_WHEN_APPROVED = frozenset({"description", "kpis", "dpia_reference", "dpia_url", "dpia_summary"})


def platform_min_k() -> int:
    return settings.PURPOSE_MIN_K


def _actor_name(caller: Caller) -> str:
    if caller.user is not None:
        return caller.user.get_username()
    return f"api-key:{caller.api_key.prefix}" if caller.api_key is not None else "anonymous"


def _require_role(caller: Caller, roles, organisation_id: int, detail: str, code: str) -> None:
    if not caller.has_role(roles, organisation_id=organisation_id):
        raise PurposeRuleBroken(detail, code=code, status=403)


def _check_levels(levels) -> list[str]:
    if not isinstance(levels, list) or not levels or any(level not in AccessLevel.values for level in levels):
        raise PurposeRuleBroken(
            "Name the access levels the purpose needs: 'aggregate', 'records' or both.",
            code="invalid",
            pointer="/allowed_levels",
        )
    return sorted(set(levels), key=LEVEL_RANK.get)


def _check_k(value: int, pointer: str) -> None:
    if value < platform_min_k():
        raise PurposeRuleBroken(
            f"The suppression threshold k may not be below the platform's {platform_min_k()}.",
            code="k_below_platform_minimum",
            pointer=pointer,
        )


def _check_noise(epsilon: float | None, grantee: Organisation | None) -> None:
    if epsilon is None:
        return
    if grantee is not None:
        raise PurposeRuleBroken(
            "Noise is for open grants (grantee null): a named grantee reads exact figures under its own purpose, "
            "with the grant's k and conditions.",
            code="noise_on_named_grant",
            pointer="/noise_epsilon",
        )
    if not (math.isfinite(epsilon) and 0 < epsilon <= NOISE_EPSILON_MAX):
        raise PurposeRuleBroken(
            f"noise_epsilon is the epsilon per released count: more than 0 and at most {NOISE_EPSILON_MAX} "
            "(smaller: more noise, and each answer costs less of the dataset's privacy budget).",
            code="out_of_range",
            pointer="/noise_epsilon",
        )


def _check_validity(valid_from, valid_until) -> None:
    if valid_until is not None and valid_from is not None and valid_until <= valid_from:
        raise PurposeRuleBroken("The validity must end after it starts.", code="invalid", pointer="/valid_until")


def _require_dpia_recorder(caller: Caller, holder_id: int) -> None:
    # The DPIA's outcome decides whether the purpose can be in force: only its privacy officer records it.
    _require_role(
        caller,
        APPROVING_ROLES,
        holder_id,
        "Only a privacy officer of the holder records the outcome of the DPIA.",
        "not_privacy_officer",
    )


@transaction.atomic
def purpose_create(*, caller: Caller, holder: Organisation, **fields) -> Purpose:
    """Declare a purpose for the holder (a draft until its privacy officer approves it)."""
    _require_role(
        caller,
        DECLARING_ROLES,
        holder.pk,
        "Only an admin, data steward or privacy officer of the holder declares its purposes.",
        "not_the_holder",
    )
    if fields.get("dpia_status", DpiaStatus.DRAFT) != DpiaStatus.DRAFT:
        _require_dpia_recorder(caller, holder.pk)
    fields["allowed_levels"] = _check_levels(fields.get("allowed_levels"))
    _check_k(fields.setdefault("k_threshold", settings.PURPOSE_DEFAULT_K), "/k_threshold")
    _check_validity(fields.get("valid_from", timezone.now()), fields.get("valid_until"))
    if Purpose.objects.filter(code=fields.get("code")).exists():
        raise PurposeRuleBroken("A purpose with this code exists already.", code="unique", pointer="/code", status=409)
    return Purpose.objects.create(holder=holder, status=PurposeStatus.DRAFT, **fields)


@transaction.atomic
def purpose_update(*, caller: Caller, purpose: Purpose, **changes) -> Purpose:
    purpose = Purpose.objects.select_for_update().get(pk=purpose.pk)
    _require_role(caller, DECLARING_ROLES, purpose.holder_id, "Only the holder changes its purposes.", "not_the_holder")
    changes.pop("holder", None)
    if "code" in changes and changes["code"] != purpose.code:
        raise PurposeRuleBroken(
            "A purpose's code never changes: grants, keys and the access log refer to it.",
            code="immutable",
            pointer="/code",
            status=409,
        )
    changes.pop("code", None)
    if "dpia_status" in changes and changes["dpia_status"] != purpose.dpia_status:
        _require_dpia_recorder(caller, purpose.holder_id)
    # Once approved, what was approved stays: withdrawn and re-approved, it would carry grants, assessments
    # and collected data over to a purpose nobody assessed. A changed purpose is a new code.
    if purpose.status == PurposeStatus.APPROVED or purpose.decisions.exists():
        frozen = sorted(
            name
            for name, value in changes.items()
            if name not in CHANGEABLE_WHEN_APPROVED and getattr(purpose, name) != value
        )
        if frozen:
            raise PurposeRuleBroken(
                f"The purpose was approved as it is: {', '.join(frozen)} cannot change. Declare a new purpose "
                "(a new code) for another use; grants and assessments do not carry over.",
                code="purpose_approved",
                pointer=f"/{frozen[0]}",
                status=409,
            )
    if "allowed_levels" in changes:
        changes["allowed_levels"] = _check_levels(changes["allowed_levels"])
    if "k_threshold" in changes:
        _check_k(changes["k_threshold"], "/k_threshold")
    for name, value in changes.items():
        setattr(purpose, name, value)
    _check_validity(purpose.valid_from, purpose.valid_until)
    purpose.save()
    return purpose


@transaction.atomic
def purpose_approve(*, caller: Caller, purpose: Purpose, reason: str = "") -> Purpose:
    purpose = Purpose.objects.select_for_update().get(pk=purpose.pk)
    _require_role(
        caller,
        APPROVING_ROLES,
        purpose.holder_id,
        "Only a privacy officer of the holder approves its purposes.",
        "not_privacy_officer",
    )
    if purpose.status == PurposeStatus.APPROVED:
        raise PurposeRuleBroken("The purpose is approved already.", code="already_approved", status=409)
    if purpose.dpia_required and purpose.dpia_status == DpiaStatus.REJECTED:
        raise PurposeRuleBroken(
            "Its DPIA was rejected: a purpose with a rejected DPIA cannot be approved.",
            code="dpia_rejected",
            pointer="/dpia_status",
            status=409,
        )
    purpose.status = PurposeStatus.APPROVED
    purpose.save(update_fields=["status", "updated_at"])
    PurposeDecision.objects.create(
        purpose=purpose, action=PurposeDecision.Action.APPROVED, actor_name=_actor_name(caller), reason=reason
    )
    return purpose


@transaction.atomic
def purpose_withdraw(*, caller: Caller, purpose: Purpose, reason: str) -> Purpose:
    """Withdraw the approval: the very next request under the purpose is refused."""
    purpose = Purpose.objects.select_for_update().get(pk=purpose.pk)
    _require_role(
        caller,
        APPROVING_ROLES,
        purpose.holder_id,
        "Only a privacy officer of the holder withdraws its purposes.",
        "not_privacy_officer",
    )
    if not reason.strip():
        raise PurposeRuleBroken("Say why the purpose is withdrawn.", code="required", pointer="/reason")
    if purpose.status != PurposeStatus.APPROVED:
        raise PurposeRuleBroken("Only an approved purpose can be withdrawn.", code="not_approved", status=409)
    purpose.status = PurposeStatus.WITHDRAWN
    purpose.save(update_fields=["status", "updated_at"])
    PurposeDecision.objects.create(
        purpose=purpose, action=PurposeDecision.Action.WITHDRAWN, actor_name=_actor_name(caller), reason=reason
    )
    return purpose


def is_repurposing(dataset: Dataset, purpose: Purpose) -> bool:
    return not dataset.collection_purposes.filter(pk=purpose.pk).exists()


@transaction.atomic
def assessment_create(*, caller: Caller, dataset: Dataset, purpose: Purpose, **answers) -> CompatibilityAssessment:
    """A privacy officer of the dataset's owner assesses (and signs, by name) a further use (Art. 6(4))."""
    _require_role(
        caller,
        ASSESSING_ROLES,
        dataset.owner_id,
        "Only a privacy officer of the dataset's owner signs a compatibility assessment.",
        "not_privacy_officer",
    )
    if caller.user is None:
        raise PurposeRuleBroken(
            "A compatibility assessment is signed by a person, by name: sign in rather than use an API key.",
            code="signed_by_a_person",
            status=403,
        )
    if not is_repurposing(dataset, purpose):
        raise PurposeRuleBroken(
            f"{purpose.code} is a collection purpose of this dataset: no assessment is needed.",
            code="not_repurposing",
            pointer="/purpose",
        )
    for name in ("link_between_purposes", "context_of_collection", "nature_of_data", "possible_consequences",
                 "safeguards"):  # fmt: skip
        if not str(answers.get(name, "")).strip():
            raise PurposeRuleBroken("Answer each of the five Art. 6(4) criteria.", code="required", pointer=f"/{name}")
    return CompatibilityAssessment.objects.create(
        dataset=dataset, purpose=purpose, signed_by_name=_actor_name(caller), **answers
    )


@transaction.atomic
def grant_create(
    *,
    caller: Caller,
    dataset: Dataset,
    purpose: Purpose,
    grantee: Organisation | None,
    level: str,
    assessment: CompatibilityAssessment | None = None,
    **conditions,
) -> Grant:
    """A data steward of the owner grants a dataset to a purpose; re-purposing needs a signed assessment."""
    _require_role(
        caller,
        GRANTING_ROLES,
        dataset.owner_id,
        "Only a data steward of the dataset's owner grants it.",
        "not_data_steward",
    )
    if level not in purpose.allowed_levels:
        raise PurposeRuleBroken(
            f"Purpose {purpose.code} allows {', '.join(purpose.allowed_levels)} access only.",
            code="level_not_allowed_by_purpose",
            pointer="/level",
        )
    if grantee is None:
        if level != AccessLevel.AGGREGATE or purpose.category not in PUBLIC_CATEGORIES:
            raise PurposeRuleBroken(
                "An open grant (for anyone) gives aggregates only, to a research-and-statistics or transparency "
                "purpose.",
                code="open_grant_not_allowed",
                pointer="/grantee",
            )
    elif grantee.pk != purpose.holder_id:
        raise PurposeRuleBroken(
            f"The grantee acts under purpose {purpose.code}: it must be its holder.",
            code="grantee_not_holder",
            pointer="/grantee",
        )
    _check_k(conditions.setdefault("k_threshold", settings.PURPOSE_DEFAULT_K), "/k_threshold")
    _check_noise(conditions.get("noise_epsilon"), grantee)
    _check_validity(conditions.get("valid_from", timezone.now()), conditions.get("valid_until"))
    if is_repurposing(dataset, purpose):
        if assessment is None:
            raise PurposeRuleBroken(
                f"{purpose.code} is not a purpose dataset {dataset.pk} was collected for: granting it is re-purposing, "
                "which needs a compatibility assessment (GDPR Art. 6(4)) signed by a privacy officer of the owner.",
                code="assessment_required",
                pointer="/assessment",
            )
        assessment = CompatibilityAssessment.objects.select_for_update().get(pk=assessment.pk)
        if assessment.dataset_id != dataset.pk or assessment.purpose_id != purpose.pk:
            raise PurposeRuleBroken(
                "The assessment is for another dataset or purpose.", code="assessment_mismatch", pointer="/assessment"
            )
        if Grant.objects.filter(assessment=assessment).exists():
            raise PurposeRuleBroken(
                "The assessment is used by another grant already.",
                code="assessment_used",
                pointer="/assessment",
                status=409,
            )
    elif assessment is not None:
        raise PurposeRuleBroken(
            f"{purpose.code} is a collection purpose of this dataset: no assessment is needed.",
            code="not_repurposing",
            pointer="/assessment",
        )
    return Grant.objects.create(
        dataset=dataset,
        purpose=purpose,
        grantee=grantee,
        level=level,
        assessment=assessment,
        granted_by_name=_actor_name(caller),
        **conditions,
    )


@transaction.atomic
def grant_revoke(*, caller: Caller, grant: Grant, reason: str) -> Grant:
    """Revoke a grant: the very next request that relied on it is refused."""
    grant = Grant.objects.select_for_update().select_related("dataset").get(pk=grant.pk)
    _require_role(
        caller, GRANTING_ROLES, grant.dataset.owner_id, "Only a data steward of the owner revokes.", "not_data_steward"
    )
    if not reason.strip():
        raise PurposeRuleBroken("Say why the grant is revoked.", code="required", pointer="/reason")
    if grant.revoked_at is not None:
        raise PurposeRuleBroken("The grant is revoked already.", code="already_revoked", status=409)
    grant.revoked_at = timezone.now()
    grant.revoked_by_name = _actor_name(caller)
    grant.revoked_reason = reason
    grant.save(update_fields=["revoked_at", "revoked_by_name", "revoked_reason"])
    return grant


@transaction.atomic
def api_key_purposes_set(*, caller: Caller, api_key: ApiKey, purposes: Iterable[Purpose]) -> ApiKey:
    """Limit a key to some of its organisation's purposes (an empty list lifts the limit)."""
    _require_role(caller, {Role.ADMIN}, api_key.organisation_id, "Only an admin limits its keys.", "not_admin")
    purposes = list(purposes)
    for purpose in purposes:
        if purpose.holder_id != api_key.organisation_id:
            raise PurposeRuleBroken(
                f"Purpose {purpose.code} is not held by the key's organisation.", code="not_holder", pointer="/purposes"
            )
    ApiKeyPurpose.objects.filter(api_key=api_key).delete()
    ApiKeyPurpose.objects.bulk_create(ApiKeyPurpose(api_key=api_key, purpose=purpose) for purpose in purposes)
    return api_key


# The guard ---------------------------------------------------------------------------------------------


def _not_in_force_why(purpose: Purpose, at: datetime) -> str:
    if purpose.status != PurposeStatus.APPROVED:
        return "not approved"
    if not purpose.dpia_cleared:
        return f"its DPIA is {purpose.dpia_status}"
    if at < purpose.valid_from:
        return f"valid from {purpose.valid_from:%Y-%m-%d}"
    return f"valid until {purpose.valid_until:%Y-%m-%d}"


def _grant_problem(grants: list[Grant], at: datetime) -> tuple[str, dict]:
    """Why none of these grants (for this dataset, purpose and caller) can be used: the most telling reason."""
    if not grants:
        return "no_grant", {}
    if all(grant.revoked_at is not None for grant in grants):
        return "grant_revoked", {}
    live = [grant for grant in grants if grant.revoked_at is None]
    if all(grant.valid_until is not None and grant.valid_until <= at for grant in live):
        return "grant_expired", {}
    future = [grant for grant in live if grant.valid_from > at]
    if future and len(future) == len(live):
        return "grant_not_yet_valid", {"valid_from": min(grant.valid_from for grant in future).isoformat()}
    return "no_grant", {}


def grant_usable(grant: Grant, at: datetime) -> bool:
    return grant.revoked_at is None and grant.valid_from <= at and (grant.valid_until is None or at < grant.valid_until)


def access_conditions(purpose: Purpose, grant: Grant | None) -> Conditions:
    """What a request under this purpose (and grant) meets: the strictest of their rules and the platform's k."""
    k = max(purpose.k_threshold, platform_min_k(), grant.k_threshold if grant else 0)
    fields = frozenset(grant.fields) if grant is not None and grant.fields else None
    return Conditions(
        min_bucket_minutes=max(purpose.min_bucket_minutes, grant.min_bucket_minutes if grant else 0),
        area_only=purpose.area_only or (grant.area_only if grant else False),
        k=k,
        fields=fields,
    )


def _too_detailed(conditions: Conditions, params: dict) -> dict | None:
    """What in the request is finer than the conditions allow (None: it respects them)."""
    bucket = params.get("bucket_minutes")
    if conditions.min_bucket_minutes and (bucket is None or bucket < conditions.min_bucket_minutes):
        what = "Single records" if bucket is None else f"Buckets of {bucket} minutes"
        return {"what": what, "allowed": f"buckets of at least {conditions.min_bucket_minutes} minutes"}
    if conditions.area_only and params.get("by", "sensor") != "area":
        what = "Single records of a sensor" if bucket is None else "Figures per sensor"
        return {"what": what, "allowed": "figures per area only"}
    return None


def access_decide(
    *,
    caller: Caller,
    purpose_code: str | None,
    dataset_ids: Iterable[int],
    level: str,
    params: dict | None = None,
    at: datetime | None = None,
) -> AccessDecision:
    """Decide whether the caller may read these datasets at this level for this purpose, or raise
    AccessRefused with a stable reason. `params`: `bucket_minutes` (None for records), `by` ('sensor' or
    'area'), `fields` (requested record fields, or None for all)."""
    at = at or timezone.now()
    params = params or {}
    dataset_ids = tuple(sorted(set(dataset_ids)))
    context = {"dataset_ids": dataset_ids, "purpose_code": purpose_code or ""}
    # Whom the caller acts for, as far as is known before the purpose is: its key's organisation, or its
    # only one (a person in several acts for the purpose's holder, decided below).
    if caller.api_key is not None:
        context["acting_for_id"] = caller.api_key.organisation_id
        context["acting_for_slug"] = caller.api_key.organisation.slug
    elif len(caller.roles) == 1:
        context["acting_for_id"] = next(iter(caller.roles))
    if not purpose_code:
        raise AccessRefused("purpose_missing", context=context)
    if not dataset_ids:
        raise AccessRefused("no_grant", context=context, dataset="(none named)", purpose=purpose_code)
    if not PURPOSE_CODE.match(purpose_code):
        raise AccessRefused("purpose_unknown", context=context, purpose=purpose_code[:80].replace("\x00", ""))
    purpose = Purpose.objects.select_related("holder").filter(code=purpose_code).first()
    member_of_holder = purpose is not None and caller.role_in(purpose.holder_id) in READING_ROLES
    # A purpose that is not in force is public by no endpoint: to others it is unknown.
    was_public = purpose is not None and (
        purpose.in_force_at(at) or (purpose.status == PurposeStatus.WITHDRAWN and purpose.dpia_cleared)
    )
    if purpose is None or not (member_of_holder or was_public):
        raise AccessRefused("purpose_unknown", context=context, purpose=purpose_code)
    context["purpose_holder_id"] = purpose.holder_id
    if not purpose.in_force_at(at):
        if purpose.status == PurposeStatus.WITHDRAWN:
            raise AccessRefused("purpose_withdrawn", context=context, purpose=purpose.code)
        raise AccessRefused(
            "purpose_not_in_force", context=context, purpose=purpose.code, why=_not_in_force_why(purpose, at)
        )
    if level not in purpose.allowed_levels:
        raise AccessRefused(
            "purpose_level_not_allowed",
            context=context,
            purpose=purpose.code,
            level=level,
            allowed=", ".join(purpose.allowed_levels),
        )

    # One query for the datasets: their owners (for the access log) and whether this purpose is one of
    # their collection purposes (which act as the owner's grants at records level).
    found = _datasets_with_collection(dataset_ids, purpose.pk)
    owners = {pk: owner_id for pk, owner_id, _ in found}
    context["dataset_owner_ids"] = owners
    if caller.api_key is not None:
        # A key limited to purposes acts under those only: its own organisation's, and open ones alike.
        limits = set(ApiKeyPurpose.objects.filter(api_key=caller.api_key).values_list("purpose_id", flat=True))
        if limits and purpose.pk not in limits:
            raise AccessRefused("key_not_for_purpose", context=context, purpose=purpose.code)
    if member_of_holder:
        context["acting_for_id"], context["acting_for_slug"] = purpose.holder_id, purpose.holder.slug
        collected = {pk for pk, owner_id, is_collected in found if is_collected and owner_id == purpose.holder_id}
    else:
        collected = set()
    grants = []
    if set(dataset_ids) - collected:
        grants = list(Grant.objects.filter(dataset_id__in=dataset_ids, purpose=purpose).order_by("pk"))
    if member_of_holder:
        mine = [grant for grant in grants if grant.grantee_id in (None, purpose.holder_id)]
    else:
        mine = [grant for grant in grants if grant.grantee_id is None]
        if not mine:
            raise AccessRefused("not_purpose_holder", context=context, purpose=purpose.code, holder=purpose.holder.name)

    conditions: list[Conditions] = []
    used: list[int] = []
    noise: dict[int, tuple[int, float]] = {}
    for dataset_id in dataset_ids:
        # The owner's collection purposes act as its grants at records level.
        if dataset_id in collected:
            found = access_conditions(purpose, None)
            problem = _too_detailed(found, params)
            if problem:
                raise AccessRefused(
                    "too_detailed", context=context, purpose=purpose.code, dataset=dataset_id, **problem
                )
            conditions.append(found)
            continue
        candidates = [grant for grant in mine if grant.dataset_id == dataset_id]
        usable = [grant for grant in candidates if grant_usable(grant, at)]
        if not usable:
            reason, values = _grant_problem(candidates, at)
            raise AccessRefused(reason, context=context, purpose=purpose.code, dataset=dataset_id, **values)
        # A grant that names the caller's organisation before an open one (stable: by id within each): it reads
        # exact figures under its own conditions, and spends no open grant's privacy budget.
        levelled = sorted(
            (grant for grant in usable if LEVEL_RANK[grant.level] >= LEVEL_RANK[level]),
            key=lambda grant: grant.grantee_id is None,
        )
        if not levelled:
            raise AccessRefused(
                "level_not_granted",
                context=context,
                purpose=purpose.code,
                dataset=dataset_id,
                level=level,
                granted=max((grant.level for grant in usable), key=LEVEL_RANK.get),
            )
        chosen, problem = None, None
        for grant in levelled:
            found = access_conditions(purpose, grant)
            problem = _too_detailed(found, params)
            if problem is None:
                chosen = grant
                conditions.append(found)
                break
        if chosen is None:
            raise AccessRefused("too_detailed", context=context, purpose=purpose.code, dataset=dataset_id, **problem)
        used.append(chosen.pk)
        if chosen.grantee_id is None and chosen.noise_epsilon is not None:
            noise[dataset_id] = (chosen.pk, chosen.noise_epsilon)

    merged = Conditions(
        min_bucket_minutes=max(c.min_bucket_minutes for c in conditions),
        area_only=any(c.area_only for c in conditions),
        k=max(c.k for c in conditions),
        fields=_intersect(c.fields for c in conditions),
    )
    requested = params.get("fields")
    if requested and merged.fields is not None and not set(requested) <= merged.fields:
        raise AccessRefused(
            "field_not_granted",
            context=context,
            purpose=purpose.code,
            dataset=",".join(map(str, dataset_ids)),
            fields=", ".join(sorted(set(requested) - merged.fields)),
        )
    return AccessDecision(
        purpose_id=purpose.pk,
        purpose_code=purpose.code,
        purpose_holder_id=purpose.holder_id,
        acting_for_id=context.get("acting_for_id"),
        dataset_ids=dataset_ids,
        level=level,
        conditions=merged,
        at=at,
        grant_ids=tuple(used),
        dataset_owner_ids=owners,
        acting_for_slug=context.get("acting_for_slug", ""),
        grant_noise=noise,
        _token=DECISION_TOKEN,
    )


def _datasets_with_collection(dataset_ids: tuple[int, ...], purpose_id: int) -> list[tuple[int, int, bool]]:
    """(id, owner id, is the purpose one of its collection purposes) per dataset: plain SQL, since every
    guarded request runs it and compiling the ORM's version cost more than the query."""
    through = Dataset.collection_purposes.through._meta.db_table
    placeholders = ", ".join(["%s"] * len(dataset_ids))
    # Table names from the models, values as parameters.
    exists = f"EXISTS (SELECT 1 FROM {through} c WHERE c.dataset_id = d.id AND c.purpose_id = %s)"  # noqa: S608
    sql = f"SELECT d.id, d.owner_id, {exists} FROM {Dataset._meta.db_table} d WHERE d.id IN ({placeholders})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [purpose_id, *dataset_ids])
        return [(pk, owner_id, bool(collected)) for pk, owner_id, collected in cursor.fetchall()]


def _intersect(field_sets) -> frozenset[str] | None:
    result = None
    for fields in field_sets:
        if fields is not None:
            result = fields if result is None else result & fields
    return result
