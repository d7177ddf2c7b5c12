"""Serializers for purposes, approvals, assessments, grants, access events and the public views of them."""

import math

from django.utils import timezone
from rest_framework import serializers

from accounts.models import Organisation
from accounts.selectors import organisations_with
from api.fields import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from api.serializers import WholeValueMixin
from datasets.models import Dataset
from purposes import selectors, services
from purposes.models import (
    AccessEvent,
    AccessLevel,
    CompatibilityAssessment,
    Grant,
    Purpose,
    PurposeDecision,
)

KPI_KINDS = ["output", "outcome"]
KPI_SCOPES = ["technology", "application"]
RECORD_MEASURE_FIELDS = ["count_in", "count_out", "count", "gauge", "data"]


# What a request may name: the roles are those of the action the field serves (api.fields).


def _declaring_for(*, caller):
    return organisations_with(caller=caller, roles=services.DECLARING_ROLES)


def _assessable_datasets(*, caller):
    return selectors.datasets_owned_with(caller=caller, roles=services.ASSESSING_ROLES)


def _grantable_datasets(*, caller):
    return selectors.datasets_owned_with(caller=caller, roles=services.GRANTING_ROLES)


def _grantable_assessments(*, caller):
    return selectors.assessments_owned_with(caller=caller, roles=services.GRANTING_ROLES)


class FiniteFloatField(serializers.FloatField):
    """A float that JSON can hold: no NaN or Infinity."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class KpiMeasurementSerializer(WholeValueMixin, serializers.Serializer):
    at = serializers.DateTimeField()
    value = FiniteFloatField()
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class KpiSerializer(WholeValueMixin, serializers.Serializer):
    """One KPI; a PATCH of `kpis` replaces them all, so each is whole."""

    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=KPI_KINDS, help_text="Output (what is delivered) or outcome (effect).")
    scope = serializers.ChoiceField(choices=KPI_SCOPES, help_text="About the technology or its application.")
    unit = serializers.CharField(max_length=60)
    target = FiniteFloatField(required=False, allow_null=True)
    measurements = KpiMeasurementSerializer(many=True, required=False, max_length=1000)


class PurposeDecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PurposeDecision
        fields = ["action", "at", "actor_name", "reason"]
        read_only_fields = fields


class PurposeSerializer(serializers.ModelSerializer):
    holder = ScopedSlugRelatedField(
        slug_field="slug",
        model=Organisation,
        scope=_declaring_for,
        required=False,
        help_text="Default: your organisation.",
    )
    allowed_levels = serializers.ListField(child=serializers.ChoiceField(choices=AccessLevel.choices), min_length=1)
    kpis = KpiSerializer(many=True, required=False, max_length=50)
    in_force = serializers.SerializerMethodField()
    decisions = PurposeDecisionSerializer(many=True, read_only=True)

    class Meta:
        model = Purpose
        fields = [
            "code",
            "holder",
            "title",
            "decision",
            "description",
            "category",
            "legal_basis",
            "national_basis",
            "dpia_required",
            "dpia_reference",
            "dpia_url",
            "dpia_status",
            "dpia_summary",
            "valid_from",
            "valid_until",
            "allowed_levels",
            "min_bucket_minutes",
            "area_only",
            "k_threshold",
            "kpis",
            "status",
            "in_force",
            "decisions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "in_force", "decisions", "created_at", "updated_at"]

    def get_in_force(self, purpose) -> bool:
        return purpose.in_force_at(timezone.now())

    def validate_kpis(self, kpis):
        # Stored as JSON: the validated values back in their JSON form (datetimes as ISO 8601).
        return KpiSerializer(many=True).to_representation(kpis)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class DatasetRefSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Dataset
        fields = ["id", "title", "owner"]
        read_only_fields = fields


class PublicPurposeListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        # The datasets of the whole page in a few queries, not a few per purpose.
        purposes = list(data.all() if hasattr(data, "all") else data)
        self.child.context["purpose_datasets"] = selectors.purpose_datasets(purposes=purposes)
        return super().to_representation(purposes)


class PublicPurposeSerializer(serializers.ModelSerializer):
    holder = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    holder_name = serializers.CharField(source="holder.name", read_only=True)
    datasets = serializers.SerializerMethodField(help_text="Catalogue datasets it may use now.")

    class Meta:
        model = Purpose
        fields = [
            "code",
            "title",
            "decision",
            "category",
            "holder",
            "holder_name",
            "legal_basis",
            "national_basis",
            "dpia_required",
            "dpia_status",
            "dpia_reference",
            "allowed_levels",
            "valid_from",
            "valid_until",
            "kpis",
            "datasets",
        ]
        read_only_fields = fields
        list_serializer_class = PublicPurposeListSerializer

    def get_datasets(self, purpose) -> list[dict]:
        known = self.context.get("purpose_datasets")
        if known is None:
            known = selectors.purpose_datasets(purposes=[purpose])
        datasets = known.get(purpose.pk, [])
        return DatasetRefSerializer(datasets, many=True).data


class AssessmentSerializer(serializers.ModelSerializer):
    dataset = ScopedPrimaryKeyRelatedField(model=Dataset, scope=_assessable_datasets)
    purpose = ScopedSlugRelatedField(slug_field="code", model=Purpose, scope=selectors.purposes_nameable)
    grant = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = CompatibilityAssessment
        fields = [
            "id",
            "dataset",
            "purpose",
            "link_between_purposes",
            "context_of_collection",
            "nature_of_data",
            "possible_consequences",
            "safeguards",
            "conclusion",
            "signed_by_name",
            "signed_at",
            "grant",
        ]
        read_only_fields = ["id", "signed_by_name", "signed_at", "grant"]


class GrantSerializer(serializers.ModelSerializer):
    dataset = ScopedPrimaryKeyRelatedField(model=Dataset, scope=_grantable_datasets)
    purpose = ScopedSlugRelatedField(slug_field="code", model=Purpose, scope=selectors.purposes_nameable)
    grantee = ScopedSlugRelatedField(
        slug_field="slug",
        model=Organisation,
        scope=selectors.grantees_nameable,
        allow_null=True,
        required=False,
        help_text="The purpose's holder; null: anyone (an open grant of aggregates).",
    )
    fields = serializers.ListField(
        child=serializers.ChoiceField(choices=RECORD_MEASURE_FIELDS), required=False, help_text="Empty: all fields."
    )
    assessment = ScopedPrimaryKeyRelatedField(
        model=CompatibilityAssessment,
        scope=_grantable_assessments,
        required=False,
        allow_null=True,
        help_text="Required when the purpose is not among the dataset's collection purposes (re-purposing).",
    )
    repurposing = serializers.SerializerMethodField()
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = Grant
        fields = [
            "id",
            "dataset",
            "purpose",
            "grantee",
            "level",
            "min_bucket_minutes",
            "area_only",
            "k_threshold",
            "noise_epsilon",
            "fields",
            "valid_from",
            "valid_until",
            "note",
            "assessment",
            "repurposing",
            "granted_by_name",
            "granted_at",
            "revoked_at",
            "revoked_by_name",
            "revoked_reason",
            "in_force",
        ]
        read_only_fields = [
            "id",
            "granted_by_name",
            "granted_at",
            "revoked_at",
            "revoked_by_name",
            "revoked_reason",
            "repurposing",
            "in_force",
        ]

    def get_repurposing(self, grant) -> bool:
        return grant.assessment_id is not None

    def get_in_force(self, grant) -> bool:
        return services.grant_usable(grant, timezone.now())


class ApiKeyPurposesSerializer(serializers.Serializer):
    purposes = serializers.ListField(child=serializers.SlugField(max_length=80), max_length=100)


class AccessEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccessEvent
        fields = [
            "id",
            "chain",
            "seq",
            "at",
            "actor_kind",
            "actor_name",
            "organisation_slug",
            "purpose_code",
            "dataset_ids",
            "endpoint",
            "params",
            "decision",
            "reason",
            "status_code",
            "rows",
            "cells",
            "cells_suppressed",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class AccessStatSerializer(serializers.Serializer):
    month = serializers.CharField()
    dataset = serializers.IntegerField()
    purpose = serializers.CharField()
    allowed = serializers.IntegerField()
    refused = serializers.IntegerField()
