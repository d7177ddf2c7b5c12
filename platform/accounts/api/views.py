"""API views for accounts: the caller, organisations and API keys."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts import services
from accounts.api.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    MeSerializer,
    OrganisationSerializer,
)
from accounts.filtersets import ApiKeyFilterSet, OrganisationFilterSet
from accounts.models import ApiKey, Organisation, Role
from api.caller import caller_of
from api.permissions import ANY_MEMBER
from api.renderers import CSVRenderer
from api.views import CallerAPIView, ScopedGenericViewSet
from purposes import selectors as purposes_selectors
from purposes import services as purposes_services
from purposes.api.serializers import ApiKeyPurposesSerializer
from purposes.models import Purpose

TAG = "accounts"


class MeView(CallerAPIView):
    openapi_tag = TAG

    @extend_schema(summary="Who am I", responses=MeSerializer, operation_id="me_retrieve")
    def get(self, request):
        caller = caller_of(request)
        organisations = Organisation.objects.filter(pk__in=caller.organisation_ids)
        data = {
            "kind": caller.kind,
            "username": caller.user.get_username() if caller.user is not None else None,
            "api_key": caller.api_key,
            "organisations": [
                {"slug": o.slug, "name": o.name, "kind": o.kind, "role": caller.role_in(o.pk)} for o in organisations
            ],
        }
        return Response(MeSerializer(data).data)


@extend_schema_view(
    list=extend_schema(summary="List your organisations"),
    retrieve=extend_schema(summary="Show one of your organisations"),
    update=extend_schema(summary="Replace an organisation's details (admins)"),
    partial_update=extend_schema(summary="Change an organisation's details (admins)"),
)
class OrganisationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, ScopedGenericViewSet
):
    openapi_tag = TAG
    queryset = Organisation.objects.none()
    organisation_field = "pk"
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilterSet
    lookup_field = "slug"
    action_roles = {"read": ANY_MEMBER, "write": {Role.ADMIN}}

    def perform_update(self, serializer):
        serializer.instance = services.organisation_update(
            organisation=serializer.instance, **serializer.validated_data
        )

    @extend_schema(
        summary="The organisation's record of processing activities (GDPR Art. 30), JSON or CSV",
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="processing-register",
        renderer_classes=[JSONRenderer, CSVRenderer],
        filterset_class=None,
        pagination_class=None,
    )
    def processing_register(self, request, slug=None):
        register = purposes_selectors.processing_register(organisation=self.get_object())
        if request.accepted_renderer.format == "csv":
            return Response({"results": purposes_selectors.processing_register_rows(register)})
        return Response(register)


@extend_schema_view(
    list=extend_schema(summary="List your organisations' API keys (admins)"),
    retrieve=extend_schema(summary="Show an API key (admins)"),
)
class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """API keys of the caller's organisations. The secret is shown once, in the create response."""

    openapi_tag = TAG
    queryset = ApiKey.objects.none()
    organisation_field = "organisation"
    serializer_class = ApiKeySerializer
    filterset_class = ApiKeyFilterSet
    lookup_field = "prefix"
    action_roles = {"read": {Role.ADMIN}, "write": {Role.ADMIN}}

    def safely_get_queryset(self, queryset):
        return queryset.select_related("organisation", "created_by")

    @extend_schema(
        summary="Create an API key (admins)",
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer},
    )
    def create(self, request):
        caller = caller_of(request)
        serializer = ApiKeyCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        api_key, secret = services.api_key_create(
            organisation=data["organisation"],
            name=data["name"],
            role=data["role"],
            expires_at=data.get("expires_at"),
            created_by=caller.user,
        )
        api_key.key = secret  # carried to the response only; never stored
        return Response(ApiKeyCreatedSerializer(api_key).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Limit an API key to some of its organisation's purposes (admins; an empty list lifts it)",
        request=ApiKeyPurposesSerializer,
        responses=ApiKeySerializer,
    )
    @action(detail=True, methods=["put"], url_path="purposes")
    def purposes(self, request, prefix=None):
        api_key = self.get_object()
        serializer = ApiKeyPurposesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        codes = serializer.validated_data["purposes"]
        found = {p.code: p for p in Purpose.objects.filter(code__in=codes, holder_id=api_key.organisation_id)}
        missing = [code for code in codes if code not in found]
        if missing:
            raise ValidationError({"purposes": f"No purpose of {api_key.organisation.slug} has code {missing[0]!r}."})
        purposes_services.api_key_purposes_set(caller=caller_of(request), api_key=api_key, purposes=found.values())
        return Response(ApiKeySerializer(api_key).data)

    @extend_schema(summary="Revoke an API key for good (admins)", request=None, responses=ApiKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, prefix=None):
        api_key = services.api_key_revoke(api_key=self.get_object())
        return Response(ApiKeySerializer(api_key).data)
