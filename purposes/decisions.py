"""The guard's vocabulary: refusal reasons, the domain errors, and the decision object data reads require.

Only `purposes.services.access_decide` builds an `AccessDecision`; data selectors take one as a required
keyword argument, and the guarded managers of purpose-bound models refuse reads without one.
"""

from dataclasses import dataclass, field
from datetime import datetime

# What a purpose code is (a slug): the API's routes and the guard read it here.
PURPOSE_CODE_PATTERN = r"[-a-zA-Z0-9_]{1,80}"

# Every reason the guard gives, with the sentence that says what to do. Stable: clients switch on them.
REASONS = {
    "purpose_missing": "Declare the purpose of this request: header X-Purpose: <code>, or ?purpose=<code>.",
    "purpose_conflict": "X-Purpose and ?purpose= name different purposes: send one.",
    "purpose_unknown": "No purpose in force has the code {purpose}: see GET /api/v1/public/purposes/.",
    "purpose_not_in_force": "Purpose {purpose} is not in force ({why}): its holder's privacy officer decides.",
    "purpose_withdrawn": "Purpose {purpose} was withdrawn by its holder's privacy officer; nothing is read under it.",
    "purpose_level_not_allowed": "Purpose {purpose} does not allow {level} access; it allows {allowed}.",
    "not_purpose_holder": (
        "You do not act for the holder of purpose {purpose} ({holder}), and no dataset here is open for it: "
        "declare a purpose of your own organisation."
    ),
    "key_not_for_purpose": "This API key is limited to other purposes than {purpose}: use a key for it.",
    "no_grant": "No grant lets you read dataset {dataset} for purpose {purpose}: ask its owner for a grant.",
    "grant_revoked": "The grant for dataset {dataset} and purpose {purpose} was revoked: ask its owner again.",
    "grant_expired": "The grant for dataset {dataset} and purpose {purpose} has expired: ask its owner to renew it.",
    "grant_not_yet_valid": "The grant for dataset {dataset} and purpose {purpose} is valid from {valid_from}.",
    "level_not_granted": (
        "Dataset {dataset} is granted to purpose {purpose} for {granted} access only, not {level}: use the "
        "aggregated indicators, or ask its owner for more."
    ),
    "too_detailed": "{what} is finer than purpose {purpose} may see for dataset {dataset} ({allowed}).",
    "field_not_granted": "Fields {fields} of dataset {dataset} are not granted to purpose {purpose}.",
    "privacy_budget_spent": (
        "The privacy budget of dataset {dataset} does not cover this answer: its noise costs epsilon {needed} and "
        "{remaining} is left. Ask for fewer cells (fewer areas, a shorter range, a coarser bucket), or ask the "
        "dataset's owner."
    ),
}

# Why a purpose-bound model may be read without a guard decision: the one named escape hatch.
UNGUARDED_REASONS = frozenset(
    {
        "ingest",  # storing records and keeping rollups current
        "retention",  # deleting expired records
        # catalogue metadata: first and last observation, whether a dataset holds records, and per month its
        # records, sensors and completeness (datasets.selectors.dataset_months): no count of persons
        "coverage",
        "integrity",  # checks of stored state (verify commands, tests), never returned to a caller
        # how many records of a sensor lie outside its service life, first and last moment: a count for its
        # controller about its own sensor after it changed the life (sensors.selectors), no record's value
        "service_life",
    }
)


class AccessRefused(Exception):
    """The guard refuses: `reason` is one of REASONS; `context` carries what is known for the access log."""

    def __init__(self, reason: str, *, context: dict | None = None, **values):
        self.reason = reason
        self.values = values
        self.context = context or {}
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        template = REASONS[self.reason]
        try:
            return template.format(**self.values)
        except KeyError:
            return template


class PurposeRuleBroken(Exception):
    """A write the rules of purpose binding do not allow; `pointer` names the field, `status` its kind."""

    def __init__(self, detail: str, *, code: str, pointer: str = "", status: int = 422):
        self.detail, self.code, self.pointer, self.status = detail, code, pointer, status
        super().__init__(detail)


class UnguardedRead(RuntimeError):
    """A purpose-bound model was read without a guard decision: a programming error, never a data leak."""


@dataclass(frozen=True)
class Conditions:
    """What the request may see: the most restrictive of the purpose's rules and the grant's conditions."""

    min_bucket_minutes: int = 0
    area_only: bool = False
    k: int = 10
    fields: frozenset[str] | None = None  # None: every field


@dataclass(frozen=True)
class AccessDecision:
    """An allowed request: who acts for whom, under which purpose, on which datasets, at which level."""

    purpose_id: int
    purpose_code: str
    purpose_holder_id: int
    acting_for_id: int | None
    dataset_ids: tuple[int, ...]
    level: str
    conditions: Conditions
    at: datetime
    grant_ids: tuple[int, ...] = field(default=())
    dataset_owner_ids: dict = field(default_factory=dict, compare=False)  # {dataset_id: owner_id}, for the log
    acting_for_slug: str = ""
    # {dataset_id: (grant_id, epsilon)} where the dataset is read under an open grant that adds noise
    # (datasets.indicators.privacy.noise_plan reads it; no query).
    grant_noise: dict = field(default_factory=dict, compare=False)
    _token: object = field(default=None, repr=False, compare=False)

    def covers(self, dataset_id: int) -> bool:
        return dataset_id in self.dataset_ids
