"""API views for purposes, compatibility assessments, grants, the access log and their public faces."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Role
from api.caller import caller_of, sole_organisation
from api.permissions import ANY_MEMBER
from api.views import PublicAPIView, PublicReadOnlyViewSet, ScopedGenericViewSet, ScopedReadOnlyViewSet
from purposes import selectors, services
from purposes.api.serializers import (
    AccessEventSerializer,
    AccessStatSerializer,
    AssessmentSerializer,
    GrantSerializer,
    PublicPurposeSerializer,
    PurposeSerializer,
    ReasonSerializer,
)
from purposes.decisions import PURPOSE_CODE_PATTERN
from purposes.filtersets import AccessEventFilterSet, GrantFilterSet, PurposeFilterSet
from purposes.models import AccessEvent, CompatibilityAssessment, Grant, Purpose

TAG = "purposes"
OWNER_LOG_ROLES = frozenset({Role.ADMIN, Role.DATA_STEWARD, Role.PRIVACY_OFFICER})
OFFICER_LOG_ROLES = frozenset({Role.PRIVACY_OFFICER})


@extend_schema_view(
    list=extend_schema(summary="List your organisations' purposes"),
    retrieve=extend_schema(summary="Show a purpose with its approval history"),
    create=extend_schema(summary="Declare a purpose (a draft until a privacy officer approves it)"),
    update=extend_schema(summary="Replace a purpose's details (approved purposes: only KPIs and DPIA details)"),
    partial_update=extend_schema(summary="Change a purpose's details (approved purposes: only KPIs and DPIA)"),
)
class PurposeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedGenericViewSet,
):
    """Purposes of the caller's organisations; another organisation's purpose answers 404."""

    openapi_tag = TAG
    queryset = Purpose.objects.none()
    organisation_field = "holder"
    serializer_class = PurposeSerializer
    filterset_class = PurposeFilterSet
    lookup_field = "code"
    lookup_value_regex = PURPOSE_CODE_PATTERN
    action_roles = {
        "read": ANY_MEMBER,
        "write": services.DECLARING_ROLES,
        "approve": services.APPROVING_ROLES,
        "withdraw": services.APPROVING_ROLES,
    }

    def safely_get_queryset(self, queryset):
        return queryset.select_related("holder").prefetch_related("decisions")

    def perform_create(self, serializer):
        caller = caller_of(self.request)
        data = dict(serializer.validated_data)
        if "holder" not in data:
            data["holder"] = sole_organisation(
                caller, services.DECLARING_ROLES, field="holder", detail="Name the organisation that holds the purpose."
            )
        serializer.instance = services.purpose_create(caller=caller, **data)

    def perform_update(self, serializer):
        serializer.instance = services.purpose_update(
            caller=caller_of(self.request), purpose=serializer.instance, **serializer.validated_data
        )

    def _decide(self, request, decide):
        reason = ReasonSerializer(data=request.data)
        reason.is_valid(raise_exception=True)
        purpose = decide(caller=caller_of(request), purpose=self.get_object(), reason=reason.validated_data["reason"])
        return Response(PurposeSerializer(purpose).data)

    @extend_schema(summary="Approve a purpose (a privacy officer of the holder)", request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, code=None):
        return self._decide(request, services.purpose_approve)

    @extend_schema(
        summary="Withdraw a purpose's approval, with a reason: the next request under it is refused",
        request=ReasonSerializer,
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, code=None):
        return self._decide(request, services.purpose_withdraw)


@extend_schema_view(
    list=extend_schema(summary="List the compatibility assessments of your datasets"),
    retrieve=extend_schema(summary="Show a compatibility assessment (GDPR Art. 6(4))"),
    create=extend_schema(summary="Sign a compatibility assessment for a further purpose (a privacy officer)"),
)
class AssessmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedGenericViewSet
):
    openapi_tag = TAG
    queryset = CompatibilityAssessment.objects.none()
    organisation_field = "dataset__owner"
    serializer_class = AssessmentSerializer
    action_roles = {"read": ANY_MEMBER, "write": services.ASSESSING_ROLES}

    def safely_get_queryset(self, queryset):
        return queryset.select_related("dataset", "purpose")

    def perform_create(self, serializer):
        serializer.instance = services.assessment_create(caller=caller_of(self.request), **serializer.validated_data)


@extend_schema_view(
    list=extend_schema(summary="List grants of your datasets, and grants to your organisations"),
    retrieve=extend_schema(summary="Show a grant"),
    create=extend_schema(summary="Grant a dataset to a purpose (a data steward of the owner)"),
)
class GrantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedGenericViewSet):
    openapi_tag = TAG
    queryset = Grant.objects.none()
    organisation_field = ("dataset__owner", "grantee")
    serializer_class = GrantSerializer
    filterset_class = GrantFilterSet
    action_roles = {"read": ANY_MEMBER, "write": services.GRANTING_ROLES, "revoke": services.GRANTING_ROLES}

    def safely_get_queryset(self, queryset):
        return queryset.select_related("dataset", "purpose", "grantee")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.grant_create(
            caller=caller_of(self.request),
            dataset=data.pop("dataset"),
            purpose=data.pop("purpose"),
            grantee=data.pop("grantee", None),
            level=data.pop("level"),
            assessment=data.pop("assessment", None),
            **data,
        )

    @extend_schema(summary="Revoke a grant, with a reason: the next request that relied on it is refused",
                   request=ReasonSerializer, responses=GrantSerializer)  # fmt: skip
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        reason = ReasonSerializer(data=request.data)
        reason.is_valid(raise_exception=True)
        grant = services.grant_revoke(
            caller=caller_of(request), grant=self.get_object(), reason=reason.validated_data["reason"]
        )
        return Response(GrantSerializer(grant).data)


@extend_schema_view(
    list=extend_schema(
        summary="The access log: accesses to your datasets (owners) and under your purposes (privacy officers)"
    ),
    retrieve=extend_schema(summary="One access event"),
)
class AccessEventViewSet(ScopedReadOnlyViewSet):
    openapi_tag = TAG
    queryset = AccessEvent.objects.none()
    organisation_field = ("purpose_holder_id", "datasets__owner_id")
    serializer_class = AccessEventSerializer
    filterset_class = AccessEventFilterSet
    action_roles = {"read": OWNER_LOG_ROLES}

    def safely_get_queryset(self, queryset):
        # Owners see accesses to their datasets; of the holder's events only its privacy officers see all.
        caller = caller_of(self.request)
        return queryset & selectors.access_events_visible(
            caller=caller, owner_roles=OWNER_LOG_ROLES, officer_roles=OFFICER_LOG_ROLES
        )


@extend_schema_view(
    list=extend_schema(summary="Purposes in force: holder, legal basis, DPIA status and the datasets they may use"),
    retrieve=extend_schema(summary="One purpose in force"),
)
class PublicPurposeViewSet(PublicReadOnlyViewSet):
    openapi_tag = "public"
    queryset = Purpose.objects.select_related("holder")
    serializer_class = PublicPurposeSerializer
    filterset_class = PurposeFilterSet
    lookup_field = "code"
    lookup_value_regex = PURPOSE_CODE_PATTERN

    def safely_get_queryset(self, queryset):
        return queryset.filter(selectors.in_force_q(timezone.now()))


class PublicAccessStatsView(PublicAPIView):
    openapi_tag = "public"

    @extend_schema(
        summary="Accesses per month, catalogue dataset and purpose (allowed and refused): no identities",
        responses=AccessStatSerializer(many=True),
    )
    def get(self, request):
        return Response(
            AccessStatSerializer(selectors.access_stats_public(), many=True).data, status=status.HTTP_200_OK
        )
