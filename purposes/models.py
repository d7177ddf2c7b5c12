"""Purposes (doelbinding), their approvals, grants with compatibility assessments, and the access log."""

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation


class PurposeCategory(models.TextChoices):
    CROWD_SAFETY = "crowd_safety_monitoring", _("Crowd safety monitoring")
    EVENT_PLANNING = "event_planning", _("Event planning")
    PUBLIC_ORDER = "public_order", _("Public order")
    RESEARCH = "research_and_statistics", _("Research and statistics")
    POLICY_EVALUATION = "policy_evaluation", _("Policy evaluation")
    PANDEMIC_DISTANCING = "pandemic_distancing", _("Pandemic distancing")
    TRANSPARENCY = "transparency", _("Transparency")


# Categories under which an owner may open a dataset's aggregates to anyone, anonymous callers included.
PUBLIC_CATEGORIES = frozenset({PurposeCategory.RESEARCH, PurposeCategory.TRANSPARENCY})


class LegalBasis(models.TextChoices):
    """GDPR Art. 6(1) a-f."""

    CONSENT = "a", _("(a) consent")
    CONTRACT = "b", _("(b) contract")
    LEGAL_OBLIGATION = "c", _("(c) legal obligation")
    VITAL_INTERESTS = "d", _("(d) vital interests")
    PUBLIC_TASK = "e", _("(e) public task or official authority")
    LEGITIMATE_INTERESTS = "f", _("(f) legitimate interests")


class AccessLevel(models.TextChoices):
    AGGREGATE = "aggregate", _("Aggregates (indicators)")
    RECORDS = "records", _("Records")


# `records` includes everything `aggregate` gives.
LEVEL_RANK = {AccessLevel.AGGREGATE: 1, AccessLevel.RECORDS: 2}


class DpiaStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class PurposeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Purpose(models.Model):
    """Why data may be processed: the decision it serves, its legal basis, DPIA and minimisation rules.

    In force only while approved by a privacy officer of the holder (with an approved DPIA where one
    is required) and within its validity. The holder is the organisation that processes under it.
    """

    code = models.SlugField(max_length=80, unique=True)
    holder = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="purposes")
    title = models.CharField(max_length=200)
    decision = models.TextField(help_text="The decision or follow-up this purpose serves.")
    description = models.TextField(blank=True)
    category = models.CharField(max_length=30, choices=PurposeCategory.choices)
    legal_basis = models.CharField(max_length=1, choices=LegalBasis.choices, help_text="GDPR Art. 6(1).")
    national_basis = models.CharField(max_length=300, blank=True, help_text="The national legal basis, in words.")
    dpia_required = models.BooleanField(default=True)
    dpia_reference = models.CharField(max_length=100, blank=True)
    dpia_url = models.URLField(blank=True)
    dpia_status = models.CharField(max_length=10, choices=DpiaStatus.choices, default=DpiaStatus.DRAFT)
    dpia_summary = models.TextField(blank=True)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    allowed_levels = models.JSONField(default=list, help_text="Subset of ['aggregate', 'records'].")
    # Data minimisation: the coarsest detail the purpose needs.
    min_bucket_minutes = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(60 * 24 * 366)], help_text="0: no minimum bucket."
    )
    area_only = models.BooleanField(default=False, help_text="Areas instead of single sensors.")
    k_threshold = models.PositiveIntegerField(
        default=10, validators=[MaxValueValidator(10_000)], help_text="Suppress cells of fewer contributions."
    )
    kpis = models.JSONField(default=list, blank=True, help_text="[{name, kind, scope, unit, target, measurements}]")
    status = models.CharField(max_length=10, choices=PurposeStatus.choices, default=PurposeStatus.DRAFT)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(category__in=PurposeCategory.values), name="purpose_category_valid"),
            models.CheckConstraint(condition=Q(legal_basis__in=LegalBasis.values), name="purpose_legal_basis_valid"),
            models.CheckConstraint(condition=Q(dpia_status__in=DpiaStatus.values), name="purpose_dpia_status_valid"),
            models.CheckConstraint(condition=Q(status__in=PurposeStatus.values), name="purpose_status_valid"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="purpose_validity_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def dpia_cleared(self) -> bool:
        """No DPIA is required, or it was approved (DPIA_CLEARED is the same in the database)."""
        return not self.dpia_required or self.dpia_status == DpiaStatus.APPROVED

    def in_force_at(self, moment) -> bool:
        return (
            self.status == PurposeStatus.APPROVED
            and self.dpia_cleared
            and self.valid_from <= moment
            and (self.valid_until is None or moment < self.valid_until)
        )


DPIA_CLEARED = Q(dpia_required=False) | Q(dpia_status=DpiaStatus.APPROVED)


class PurposeDecision(models.Model):
    """One approval or withdrawal of a purpose by a privacy officer of its holder (append-only history)."""

    class Action(models.TextChoices):
        APPROVED = "approved", _("Approved")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    purpose = models.ForeignKey(Purpose, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(max_length=10, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now)
    actor_name = models.CharField(max_length=150, help_text="Who decided (username), kept as written.")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["purpose", "at", "id"]

    def __str__(self) -> str:
        return f"{self.purpose_id} {self.action} by {self.actor_name}"


# The largest epsilon per released count a grant may set: above it the noise (scale 1/epsilon) is a
# rounding error on a count, and calling it privacy would mislead.
NOISE_EPSILON_MAX = 10


class Grant(models.Model):
    """Lets a grantee read a dataset for a purpose, at a level, under conditions, for a while.

    No grantee: an open grant, for anyone (anonymous callers included) who declares the purpose;
    open grants are `aggregate` only and for a public purpose.
    """

    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.PROTECT, related_name="grants")
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="grants")
    grantee = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="grants_received"
    )
    level = models.CharField(max_length=10, choices=AccessLevel.choices)
    min_bucket_minutes = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(60 * 24 * 366)])
    area_only = models.BooleanField(default=False)
    k_threshold = models.PositiveIntegerField(default=10, validators=[MaxValueValidator(10_000)])
    # Open grants only: Laplace noise of scale 1/epsilon on every count released, charged to the dataset's
    # privacy budget (datasets.indicators.privacy, docs/privacy-of-aggregates.md).
    noise_epsilon = models.FloatField(
        null=True, blank=True, help_text="Open grants only: epsilon per released count (> 0, at most 10); null: none."
    )
    fields = models.JSONField(default=list, blank=True, help_text="Record fields granted; empty: all.")
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    granted_by_name = models.CharField(max_length=150)
    granted_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
    assessment = models.OneToOneField(
        "CompatibilityAssessment", null=True, blank=True, on_delete=models.PROTECT, related_name="grant"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_name = models.CharField(max_length=150, blank=True)
    revoked_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["dataset", "purpose__code", "id"]
        indexes = [models.Index(fields=["dataset", "purpose"], name="grant_dataset_purpose")]
        constraints = [
            models.CheckConstraint(condition=Q(level__in=AccessLevel.values), name="grant_level_valid"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="grant_validity_positive",
            ),
            models.CheckConstraint(
                condition=Q(grantee__isnull=False) | Q(level=AccessLevel.AGGREGATE), name="grant_open_is_aggregate"
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoked_reason=""), name="grant_revocation_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(noise_epsilon__isnull=True) | Q(noise_epsilon__gt=0, noise_epsilon__lte=NOISE_EPSILON_MAX),
                name="grant_noise_epsilon_range",
            ),
            models.CheckConstraint(
                condition=Q(noise_epsilon__isnull=True) | Q(grantee__isnull=True), name="grant_noise_open_only"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id} × {self.purpose_id} → {self.grantee_id or 'anyone'} ({self.level})"

    @property
    def is_open(self) -> bool:
        return self.grantee_id is None


class CompatibilityAssessment(models.Model):
    """GDPR Art. 6(4): why a new purpose is compatible with the purposes the data was collected for.

    Required for a grant whose purpose is not among the dataset's collection purposes, signed by a
    privacy officer of the dataset's owner, by name.
    """

    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.PROTECT, related_name="assessments")
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="assessments")
    link_between_purposes = models.TextField()
    context_of_collection = models.TextField()
    nature_of_data = models.TextField()
    possible_consequences = models.TextField()
    safeguards = models.TextField()
    conclusion = models.TextField(blank=True)
    signed_by_name = models.CharField(max_length=150)
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"assessment of {self.purpose_id} for dataset {self.dataset_id} signed by {self.signed_by_name}"


class AccessEvent(models.Model):
    """One guarded request, allowed or refused. Append-only: database triggers refuse UPDATE and DELETE.

    Events form `chain`s (shards, so that appends do not serialise the platform): within a chain,
    `seq` counts from 1 and `hash` = SHA-256(prev_hash + canonical content). Actors, organisation and
    purpose are stored as written (no foreign keys that a cascade could turn into an UPDATE).
    """

    class Decision(models.TextChoices):
        ALLOWED = "allowed", _("Allowed")
        REFUSED = "refused", _("Refused")

    chain = models.PositiveSmallIntegerField()
    seq = models.BigIntegerField()
    at = models.DateTimeField()
    actor_kind = models.CharField(max_length=10, help_text="user, api_key or anonymous")
    actor_name = models.CharField(max_length=150, blank=True, help_text="Username, or the key's prefix.")
    organisation_id = models.BigIntegerField(null=True, help_text="Acting for (no foreign key: never updated).")
    organisation_slug = models.CharField(max_length=80, blank=True)
    purpose_code = models.CharField(max_length=80, blank=True)
    purpose_holder_id = models.BigIntegerField(null=True)
    dataset_ids = models.JSONField(default=list)
    dataset_owners = models.JSONField(default=dict, help_text="{dataset id: owner id}; its rows in AccessEventDataset.")
    endpoint = models.CharField(max_length=100)
    params = models.JSONField(default=dict)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    reason = models.CharField(max_length=40, blank=True)
    status_code = models.PositiveSmallIntegerField()
    rows = models.BigIntegerField(default=0)
    cells = models.BigIntegerField(default=0)
    cells_suppressed = models.BigIntegerField(default=0)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["at", "chain", "seq"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="accessevent_chain_seq")]
        indexes = [
            models.Index(fields=["purpose_holder_id", "at"], name="accessevent_holder_time"),
            models.Index(fields=["at"], name="accessevent_time"),
        ]

    def __str__(self) -> str:
        return f"{self.chain}:{self.seq} {self.decision} {self.purpose_code} {self.endpoint}"


class AccessEventDataset(models.Model):
    """Which datasets (and their owners) an access event touched: lets each owner find its events.

    On PostgreSQL the primary key is (dataset_id, id) (docs/adr/0008, Citus); Django keeps `id`."""

    event = models.ForeignKey(AccessEvent, on_delete=models.DO_NOTHING, related_name="datasets", db_constraint=False)
    dataset_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["event"]
        indexes = [
            models.Index(fields=["owner_id", "at"], name="accesseventdataset_owner_time"),
            models.Index(fields=["dataset_id", "at"], name="accesseventdataset_ds_time"),
        ]

    def __str__(self) -> str:
        return f"event {self.event_id} → dataset {self.dataset_id}"


class ApiKeyPurpose(models.Model):
    """Limits an API key to some purposes: a police system's key acts under its own purposes only."""

    api_key = models.ForeignKey("accounts.ApiKey", on_delete=models.CASCADE, related_name="purpose_limits")
    purpose = models.ForeignKey(Purpose, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["api_key", "purpose"]
        constraints = [models.UniqueConstraint(fields=["api_key", "purpose"], name="apikeypurpose_unique")]

    def __str__(self) -> str:
        return f"{self.api_key_id} → {self.purpose_id}"


# Epsilon amounts are exact decimals: the ledger adds up to the budget's spent, to the last digit.
EPSILON_DIGITS = {"max_digits": 18, "decimal_places": 9}


class PrivacyBudget(models.Model):
    """A dataset's privacy budget for noisy open aggregates: how much epsilon readers under its open grants
    may spend all told, and how much they spent. No row: nothing spent, the platform's default total.

    Keyed by `dataset_id` (distributed with the data, docs/scaling.md). Spending is one conditional UPDATE
    (`datasets.indicators.privacy.spend`); the owner raises, lowers or resets it (`privacy_budget_change`).
    """

    dataset = models.OneToOneField(
        "datasets.Dataset", primary_key=True, on_delete=models.CASCADE, related_name="privacy_budget"
    )
    total_epsilon = models.DecimalField(
        **EPSILON_DIGITS, null=True, blank=True, help_text="null: the platform's PRIVACY_BUDGET_DEFAULT_EPSILON."
    )
    spent_epsilon = models.DecimalField(**EPSILON_DIGITS, default=0)
    reset_at = models.DateTimeField(null=True, blank=True, help_text="When the owner last set spent back to 0.")
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["dataset"]
        constraints = [
            models.CheckConstraint(condition=Q(spent_epsilon__gte=0), name="privacybudget_spent_not_negative"),
            models.CheckConstraint(
                condition=Q(total_epsilon__isnull=True) | Q(total_epsilon__gte=0),
                name="privacybudget_total_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"dataset {self.dataset_id}: {self.spent_epsilon} of {self.total_epsilon or 'default'}"


class PrivacySpend(models.Model):
    """One charge to a dataset's privacy budget: a noisy answer under an open grant (append-only ledger:
    database triggers refuse UPDATE and DELETE, as for the access log).

    On PostgreSQL the primary key is (dataset_id, id) (docs/adr/0008, Citus); Django keeps `id`."""

    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.PROTECT, related_name="privacy_spends")
    at = models.DateTimeField(default=timezone.now)
    epsilon = models.DecimalField(**EPSILON_DIGITS, help_text="Charged: counts x epsilon_per_count, rounded up.")
    counts = models.PositiveIntegerField(help_text="Noisy numbers released.")
    epsilon_per_count = models.FloatField()
    purpose_code = models.CharField(max_length=80)
    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="privacy_spends")

    class Meta:
        ordering = ["dataset", "at", "id"]
        indexes = [models.Index(fields=["dataset", "at"], name="privacyspend_dataset_time")]
        constraints = [models.CheckConstraint(condition=Q(epsilon__gt=0), name="privacyspend_epsilon_positive")]

    def __str__(self) -> str:
        return f"dataset {self.dataset_id}: {self.epsilon} for {self.purpose_code} at {self.at:%Y-%m-%d %H:%M}"
