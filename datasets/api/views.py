"""API views for standard schemas, datasets, ingest and the public catalogue."""

from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import renderers, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.models import Role
from api.caller import caller_of, sole_organisation
from api.params import query_parameters
from api.parsers import raw_parser
from api.permissions import ANY_MEMBER
from api.views import PublicAPIView, PublicReadOnlyViewSet, ScopedModelViewSet
from datasets import catalog, fiware, records, selectors, services
from datasets.api.serializers import (
    DatasetSerializer,
    IngestBatchSerializer,
    IngestResultSerializer,
    PrivacyBudgetChangeSerializer,
    PrivacyBudgetSerializer,
    PublicDatasetSerializer,
    SchemaVersionSerializer,
    StandardSchemaListSerializer,
    StandardSchemaSerializer,
)
from datasets.filtersets import SOURCE_FORMATS, DatasetFilterSet, IngestBatchFilterSet, StandardSchemaFilterSet
from datasets.indicators import privacy
from datasets.models import AccessClassification, Dataset, DatasetStatus, IngestBatch, SchemaVersion, StandardSchema


class JSONSchemaRenderer(renderers.JSONRenderer):
    media_type = "application/schema+json"
    format = "schema-json"


class JSONLDRenderer(renderers.JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"


@extend_schema_view(
    list=extend_schema(summary="List the standard dataset schemas"),
    retrieve=extend_schema(summary="Show a schema: its latest version and all versions"),
)
class StandardSchemaViewSet(PublicReadOnlyViewSet):
    openapi_tag = "schemas"
    queryset = StandardSchema.objects.prefetch_related("versions")
    filterset_class = StandardSchemaFilterSet
    lookup_field = "code"

    def get_serializer_class(self):
        return StandardSchemaListSerializer if self.action == "list" else StandardSchemaSerializer


class SchemaVersionView(PublicAPIView):
    openapi_tag = "schemas"

    @extend_schema(summary="Show one version of a schema", responses=SchemaVersionSerializer)
    def get(self, request, code: str, version: str):
        found = get_object_or_404(SchemaVersion.objects.select_related("schema"), schema__code=code, version=version)
        return Response(SchemaVersionSerializer(found, context={"request": request}).data)


class RecordJSONSchemaView(PublicAPIView):
    """The raw JSON Schema of one record, for vendors to validate before sending."""

    openapi_tag = "schemas"
    renderer_classes = [JSONSchemaRenderer, renderers.JSONRenderer]

    @extend_schema(summary="The JSON Schema (draft 2020-12) of one record", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, code: str, version: str):
        found = get_object_or_404(SchemaVersion, schema__code=code, version=version)
        return Response(found.record_schema)


class IngestQuerySerializer(serializers.Serializer):
    """The ingest endpoints' query, declared once: the code and the OpenAPI document read it here."""

    partial = serializers.BooleanField(
        required=False, default=False, help_text="Store the valid records and report the others (default: atomic)."
    )


def ingest_partial(request) -> bool:
    return query_parameters(request, IngestQuerySerializer)["partial"]


# A header row, then at least one row with a value (a header alone is refused: 422 no_records).
CSV_RECORDS = {
    "type": "string",
    "pattern": r'^[^\n]*\n[\s\S]*[^,\s"][\s\S]*$',
    "description": "A header row naming the record's fields, then one row per record.",
}

INGEST_PARAMETERS = [
    IngestQuerySerializer,
    OpenApiParameter(
        "Idempotency-Key", str, OpenApiParameter.HEADER, description="A retry with the same key replays the answer."
    ),
]


@extend_schema_view(
    list=extend_schema(summary="List datasets: your own, and others' that are not restricted"),
    retrieve=extend_schema(summary="Show a dataset's metadata"),
    create=extend_schema(summary="Register a dataset against a standard schema version"),
    update=extend_schema(summary="Replace a dataset's metadata (the owner)"),
    partial_update=extend_schema(summary="Change a dataset's metadata (the owner)"),
    destroy=extend_schema(summary="Delete a dataset that holds no records (the owner)"),
)
class DatasetViewSet(ScopedModelViewSet):
    openapi_tag = "datasets"
    queryset = Dataset.objects.none()
    organisation_field = ("owner", "sensors__operator")
    # Others read the metadata of published datasets that are not restricted.
    shared_read = Q(status__in=[DatasetStatus.ACTIVE, DatasetStatus.RETIRED]) & ~Q(
        access=AccessClassification.RESTRICTED
    )
    serializer_class = DatasetSerializer
    filterset_class = DatasetFilterSet
    action_roles = {
        "read": ANY_MEMBER,
        "write": services.DESCRIBING_ROLES,
        "records": services.INGEST_ROLES,
        "fiware": services.INGEST_ROLES,
        "batches": ANY_MEMBER,
        "privacy_budget": {Role.DATA_STEWARD},
    }

    # Actions that read the dataset itself, not its sensors and areas: ingest resolves the sensors it needs
    # (SensorDirectory), so loading every feeding sensor first would only cost time (16 ms for 300).
    WITHOUT_RELATIONS = frozenset({"records", "fiware", "batches"})

    def safely_get_queryset(self, queryset):
        queryset = queryset.select_related("owner", "schema_version__schema")
        if self.action in self.WITHOUT_RELATIONS:
            return queryset
        return queryset.select_related("privacy_budget").prefetch_related("sensors", "areas")

    def perform_create(self, serializer):
        caller = caller_of(self.request)
        data = dict(serializer.validated_data)
        if "owner" not in data:
            data["owner"] = sole_organisation(
                caller, services.DESCRIBING_ROLES, field="owner", detail="Name the organisation that owns the dataset."
            )
        if "schema_version" not in data:
            raise ValidationError({"schema": "Name a standard schema."})
        serializer.instance = services.dataset_register(caller=caller, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("owner", None)
        serializer.instance = services.dataset_update(
            caller=caller_of(self.request), dataset=serializer.instance, **data
        )

    def perform_destroy(self, instance):
        services.dataset_delete(caller=caller_of(self.request), dataset=instance)

    def _answer(self, answer):
        headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
        return Response(answer.body, status=answer.status, headers=headers)

    @extend_schema(
        summary="Send records (JSON, NDJSON or CSV); atomic and idempotent",
        request={
            "application/json": {
                "type": "object",
                "properties": {"records": {"type": "array", "items": {"type": "object"}, "minItems": 1}},
            },
            "application/x-ndjson": OpenApiTypes.STR,
            "text/csv": CSV_RECORDS,
        },
        parameters=INGEST_PARAMETERS,
        responses={
            201: IngestResultSerializer,
            200: OpenApiResponse(IngestResultSerializer, "Nothing new (or a replay)."),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[raw_parser(media) for media in records.FORMATS],
        renderer_classes=[renderers.JSONRenderer],
        filterset_class=None,
    )
    def records(self, request, pk=None):
        answer = services.records_ingest(
            caller=caller_of(request),
            dataset=self.get_object(),
            body=request.body,
            content_type=request.content_type,
            partial=ingest_partial(request),
            idempotency_key=request.headers.get("Idempotency-Key", "")[:200],
        )
        return self._answer(answer)

    @extend_schema(
        summary="Send FIWARE CrowdFlowObserved entities (key-values or NGSI-LD normalized)",
        request={"application/json": OpenApiTypes.OBJECT, "application/ld+json": OpenApiTypes.OBJECT},
        parameters=[
            *INGEST_PARAMETERS,
            OpenApiParameter("sensor", str, description="The reference of the sensor for every entity (default: id)."),
        ],
        responses={201: IngestResultSerializer, 200: IngestResultSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="records/fiware",
        parser_classes=[raw_parser("application/json"), raw_parser("application/ld+json")],
        renderer_classes=[renderers.JSONRenderer],
        filterset_class=None,
    )
    def fiware(self, request, pk=None):
        dataset = self.get_object()
        answer = services.records_ingest(
            caller=caller_of(request),
            dataset=dataset,
            body=request.body,
            content_type=request.content_type,
            partial=ingest_partial(request),
            idempotency_key=request.headers.get("Idempotency-Key", "")[:200],
            parse=fiware.parser(request.query_params.get("sensor") or None),
        )
        return self._answer(answer)

    @extend_schema(
        summary="The dataset's ingest batches (the owner sees all; an operator its own)",
        responses=IngestBatchSerializer(many=True),
        parameters=[
            OpenApiParameter("status", str, enum=IngestBatch.Status.values),
            OpenApiParameter("source_format", str, enum=SOURCE_FORMATS),
            OpenApiParameter("received_after", OpenApiTypes.DATETIME),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def batches(self, request, pk=None):
        dataset = self.get_object()
        caller = caller_of(request)
        batches = IngestBatch.objects.filter(dataset=dataset).select_related("organisation", "user")
        if not caller.has_role(ANY_MEMBER, organisation_id=dataset.owner_id):
            batches = batches.filter(organisation_id__in=caller.organisation_ids)
        batches = IngestBatchFilterSet(request.query_params, queryset=batches, request=request).qs
        page = self.paginate_queryset(batches)
        return self.get_paginated_response(IngestBatchSerializer(page, many=True).data)

    @extend_schema(
        summary="Set the dataset's privacy budget for noisy answers under open grants (a data steward of the owner)",
        request=PrivacyBudgetChangeSerializer,
        responses=PrivacyBudgetSerializer,
    )
    @action(detail=True, methods=["patch"], url_path="privacy-budget", filterset_class=None)
    def privacy_budget(self, request, pk=None):
        change = PrivacyBudgetChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        dataset = self.get_object()
        privacy.privacy_budget_change(caller=caller_of(request), dataset=dataset, **change.validated_data)
        return Response(PrivacyBudgetSerializer(privacy.privacy_budget_view(dataset)).data)


@extend_schema_view(
    list=extend_schema(summary="The public dataset catalogue (no login)"),
    retrieve=extend_schema(summary="One dataset in the public catalogue"),
)
class PublicDatasetViewSet(PublicReadOnlyViewSet):
    openapi_tag = "catalogue"
    queryset = selectors.public_datasets()
    serializer_class = PublicDatasetSerializer
    filterset_class = DatasetFilterSet


class CatalogView(PublicAPIView):
    """The catalogue in DCAT-AP 2, as JSON-LD, for open-data portals to harvest."""

    openapi_tag = "catalogue"
    renderer_classes = [JSONLDRenderer, renderers.JSONRenderer]

    @extend_schema(summary="The catalogue as DCAT-AP JSON-LD", responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(catalog.catalog_document(selectors.public_datasets(), request))
