"""The default manager of purpose-bound models (records, rollups, indicator tables): no read without a decision."""

from django.db import models

from purposes.decisions import UNGUARDED_REASONS, AccessDecision, UnguardedRead

# Set by purposes.services only: a decision built anywhere else does not open a purpose-bound table.
DECISION_TOKEN = object()


class PurposeBoundManager(models.Manager):
    """`Model.objects.filter(...)` raises; data selectors read through `.for_decision(decision)`, and ingest,
    retention, catalogue coverage and integrity checks through the one named escape hatch `.unguarded(reason)`."""

    def get_queryset(self):
        raise UnguardedRead(
            f"{self.model.__name__} is purpose-bound: read it through a selector that takes the guard's "
            "AccessDecision (.for_decision(decision)), or .unguarded(reason) for "
            f"{', '.join(sorted(UNGUARDED_REASONS))}."
        )

    def for_decision(self, decision: AccessDecision) -> models.QuerySet:
        if not isinstance(decision, AccessDecision) or decision._token is not DECISION_TOKEN:
            raise UnguardedRead("Only an AccessDecision from purposes.services.access_decide opens this table.")
        # Only the datasets the decision covers, whatever the selector filters next.
        return super().get_queryset().filter(dataset_id__in=decision.dataset_ids)

    def unguarded(self, reason: str) -> models.QuerySet:
        if reason not in UNGUARDED_REASONS:
            raise UnguardedRead(f"{reason!r} is not a reason to read {self.model.__name__} unguarded.")
        return super().get_queryset()

    def none(self) -> models.QuerySet:
        # An empty queryset reads nothing: viewsets declare `queryset = Model.objects.none()`.
        return super().get_queryset().none()
