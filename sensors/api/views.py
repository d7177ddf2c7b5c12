"""API views for sensor types, sensors, areas and the public sensor register."""

from django.db.models import ProtectedError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.models import Organisation
from api.caller import caller_of, sole_organisation
from api.pagination import CursorPagination, PageNumberPagination
from api.params import query_parameters
from api.parsers import CSVTextParser
from api.permissions import ANY_MEMBER
from api.problems import Conflict
from api.renderers import CSVRenderer, GeoJSONRenderer, browsable
from api.views import PublicReadOnlyViewSet, ScopedGenericViewSet, ScopedModelViewSet
from sensors import importers, selectors, services
from sensors.api.serializers import (
    AreaListQuerySerializer,
    AreaSerializer,
    AreaSummarySerializer,
    ImportResultSerializer,
    PlacementSerializer,
    PlacementsSerializer,
    PlaceSensorsInsideSerializer,
    PublicSensorSerializer,
    RestrictedSummarySerializer,
    SensorChangeSerializer,
    SensorEventSerializer,
    SensorInsideSerializer,
    SensorMoveSerializer,
    SensorSerializer,
    SensorServiceEventSerializer,
    SensorTransitionSerializer,
    SensorTypeSerializer,
    SensorUpdateSerializer,
    ServiceLifeSerializer,
)
from sensors.filtersets import AreaFilterSet, SensorFilterSet, SensorTypeFilterSet
from sensors.models import Area, Sensor, SensorEvent, SensorType

WRITING_ROLES = services.REGISTERING_ROLES | services.DECIDING_ROLES
RENDERERS = [JSONRenderer, GeoJSONRenderer, CSVRenderer, *browsable()]


@extend_schema_view(
    list=extend_schema(summary="List the sensor types, explained for citizens"),
    retrieve=extend_schema(summary="Show a sensor type"),
)
class SensorTypeViewSet(PublicReadOnlyViewSet):
    openapi_tag = "sensors"
    queryset = SensorType.objects.all()
    serializer_class = SensorTypeSerializer
    filterset_class = SensorTypeFilterSet
    lookup_field = "code"


class SensorImportQuerySerializer(serializers.Serializer):
    """The import's query, declared once: the code and the OpenAPI document read it here."""

    mapping = serializers.ChoiceField(choices=list(importers.MAPPINGS), default="platform", help_text="column mapping")
    controller = serializers.CharField(help_text="controller's slug")
    operator = serializers.CharField(
        required=False, allow_blank=True, help_text="operator's slug (default: the controller)"
    )
    sensor_type = serializers.CharField(help_text="sensor type code for every row")
    personal_data_at_edge = serializers.BooleanField(default=False, help_text="as your DPIA states (default false)")
    legal_basis = serializers.CharField(required=False, allow_blank=True, default="")
    contact_email = serializers.CharField(required=False, allow_blank=True, default="")


def _organisation(value, pointer):
    if not value:
        raise ValidationError({pointer: "This parameter is required."})
    organisation = Organisation.objects.filter(slug=value).first()
    if organisation is None:
        raise ValidationError({pointer: f"No organisation with slug {value!r}."})
    return organisation


@extend_schema_view(
    list=extend_schema(summary="List the sensors your organisations control or operate"),
    retrieve=extend_schema(summary="Show a sensor"),
    create=extend_schema(summary="Register a sensor for a controller (it starts as proposed)"),
    update=extend_schema(summary="Replace a sensor's details", request=SensorUpdateSerializer),
    partial_update=extend_schema(summary="Change a sensor's details", request=SensorUpdateSerializer),
)
class SensorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedGenericViewSet,
):
    """Sensors seen by their controller and their operator; changes are decided in sensors.services."""

    openapi_tag = "sensors"
    queryset = Sensor.objects.none()
    organisation_field = ("controller", "operator")
    serializer_class = SensorSerializer
    filterset_class = SensorFilterSet
    pagination_class = CursorPagination
    renderer_classes = RENDERERS
    geojson_geometry_field = "location"
    action_roles = {"read": ANY_MEMBER, "write": WRITING_ROLES}

    def safely_get_queryset(self, queryset):
        return queryset.select_related("sensor_type", "controller", "operator").prefetch_related(
            "active_periods", "suspensions"
        )

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return SensorUpdateSerializer
        return SensorSerializer

    def perform_create(self, serializer):
        caller = caller_of(self.request)
        data = dict(serializer.validated_data)
        if "operator" not in data:
            data["operator"] = sole_organisation(
                caller, ANY_MEMBER, field="operator", detail="You belong to several organisations: name the operator."
            )
        serializer.instance = services.sensor_register(caller=caller, **data)

    def perform_update(self, serializer):
        serializer.instance = services.sensor_update(
            caller=caller_of(self.request), sensor=serializer.instance, **serializer.validated_data
        )

    def _transition(self, request, action_name, serializer_class=SensorServiceEventSerializer):
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        sensor = services.sensor_transition(
            caller=caller_of(request), sensor=self.get_object(), action=action_name, **serializer.validated_data
        )
        return Response(SensorChangeSerializer(sensor).data)

    @extend_schema(
        summary="Confirm a proposed sensor (the controller's data steward)",
        request=SensorTransitionSerializer,
        responses=SensorChangeSerializer,
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._transition(request, SensorEvent.Action.CONFIRMED, SensorTransitionSerializer)

    @extend_schema(
        summary="Suspend an active sensor, now or at `at` (the controller)",
        request=SensorServiceEventSerializer,
        responses=SensorChangeSerializer,
    )
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        return self._transition(request, SensorEvent.Action.SUSPENDED)

    @extend_schema(
        summary="Resume a suspended sensor, or reinstate a removed one, now or at `at` (the controller)",
        request=SensorServiceEventSerializer,
        responses=SensorChangeSerializer,
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._transition(request, SensorEvent.Action.RESUMED)

    @extend_schema(
        summary="Record a sensor's removal, now or at `at` (the controller); it stays in the register as removed",
        request=SensorServiceEventSerializer,
        responses=SensorChangeSerializer,
    )
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        return self._transition(request, SensorEvent.Action.REMOVED)

    @extend_schema(
        summary="Correct a sensor's whole service life: installation, suspensions, removal (the controller)",
        request=ServiceLifeSerializer,
        responses=SensorChangeSerializer,
    )
    @action(detail=True, methods=["put"], url_path="service-life")
    def service_life(self, request, pk=None):
        serializer = ServiceLifeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sensor = services.sensor_service_life_set(
            caller=caller_of(request), sensor=self.get_object(), **serializer.validated_data
        )
        return Response(SensorChangeSerializer(sensor).data)

    @extend_schema(
        methods=["get"],
        summary="Where a sensor stood over time: areas, gate direction, from, until",
        responses=PlacementSerializer(many=True),
        filters=False,
    )
    @extend_schema(
        methods=["put"],
        summary="Correct where a sensor stood over its whole life (the controller); replaces every placement",
        request=PlacementsSerializer,
        responses=PlacementSerializer(many=True),
        filters=False,
    )
    @action(
        detail=True,
        methods=["get", "put"],
        pagination_class=None,
        filterset_class=None,
        renderer_classes=[JSONRenderer],
    )
    def placements(self, request, pk=None):
        sensor = self.get_object()
        if request.method == "PUT":
            serializer = PlacementsSerializer(data=request.data, context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            sensor = services.sensor_placements_set(
                caller=caller_of(request), sensor=sensor, **serializer.validated_data
            )
        return Response(PlacementSerializer(selectors.sensor_placements(sensor=sensor), many=True).data)

    @extend_schema(
        summary="Record that a sensor moved to another area (or out of every area), now or at `at` (the controller)",
        request=SensorMoveSerializer,
        responses=PlacementSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["post"], pagination_class=None, filterset_class=None, renderer_classes=[JSONRenderer])
    def move(self, request, pk=None):
        sensor = self.get_object()
        serializer = SensorMoveSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        sensor = services.sensor_move(caller=caller_of(request), sensor=sensor, **serializer.validated_data)
        return Response(PlacementSerializer(selectors.sensor_placements(sensor=sensor), many=True).data)

    @extend_schema(summary="A sensor's history: who changed what, when", responses=SensorEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, renderer_classes=[JSONRenderer])
    def history(self, request, pk=None):
        events = selectors.sensor_history(sensor=self.get_object(), caller=caller_of(request))
        return Response(SensorEventSerializer(events, many=True).data)

    @extend_schema(
        summary="Import sensors from CSV (atomic; keyed on operator and reference)",
        request={"text/csv": OpenApiTypes.STR},
        responses=ImportResultSerializer,
        parameters=[SensorImportQuerySerializer],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[CSVTextParser],
        renderer_classes=[JSONRenderer],
        filterset_class=None,
        scope_exempt="reads no sensor: writes through sensors.importers, which checks the caller's roles",
    )
    def import_csv(self, request):
        params = dict(query_parameters(request, SensorImportQuerySerializer))
        controller = _organisation(params.pop("controller"), "controller")
        operator = _organisation(params.pop("operator", "") or controller.slug, "operator")
        result = importers.sensors_import(
            caller=caller_of(request),
            text=request.data if isinstance(request.data, str) else "",
            controller=controller,
            operator=operator,
            **params,
        )
        body = ImportResultSerializer(result).data
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


@extend_schema_view(
    list=extend_schema(
        summary="List your organisations' areas (without their polygons unless ?geometry=true)",
        parameters=[AreaListQuerySerializer],
        responses=AreaSummarySerializer(many=True),
    ),
    retrieve=extend_schema(summary="Show an area"),
    create=extend_schema(summary="Add an area (its surface is computed geodesically)"),
    update=extend_schema(summary="Replace an area"),
    partial_update=extend_schema(summary="Change an area"),
    destroy=extend_schema(summary="Delete an area no sensor uses"),
)
class AreaViewSet(ScopedModelViewSet):
    openapi_tag = "sensors"
    queryset = Area.objects.none()
    organisation_field = "owner"
    serializer_class = AreaSerializer
    filterset_class = AreaFilterSet
    renderer_classes = [JSONRenderer, GeoJSONRenderer, *browsable()]
    geojson_geometry_field = "geometry"
    action_roles = {"read": ANY_MEMBER, "write": services.DECIDING_ROLES}

    def safely_get_queryset(self, queryset):
        return queryset.select_related("owner")

    def get_serializer_class(self):
        # A polygon may have thousands of positions: a list carries them only when asked.
        if self.action == "list" and not self._list_with_geometry():
            return AreaSummarySerializer
        return AreaSerializer

    def _list_with_geometry(self) -> bool:
        if getattr(self, "swagger_fake_view", False):
            return False
        if getattr(self.request.accepted_renderer, "format", None) == GeoJSONRenderer.format:
            return True
        return query_parameters(self.request, AreaListQuerySerializer)["geometry"]

    def perform_create(self, serializer):
        caller = caller_of(self.request)
        data = dict(serializer.validated_data)
        if "owner" not in data:
            data["owner"] = sole_organisation(
                caller, services.DECIDING_ROLES, field="owner", detail="Name the municipality that owns the area."
            )
        serializer.instance = services.area_create(caller=caller, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("owner", None)
        serializer.instance = services.area_update(caller=caller_of(self.request), area=serializer.instance, **data)

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except ProtectedError:
            raise Conflict(
                "Sensors stand or stood in this area (their placements keep it): move or remove them first.",
                "area_in_use",
            ) from None

    @extend_schema(
        summary="The sensors whose location lies inside the area's polygon, and where each is placed now",
        responses=SensorInsideSerializer(many=True),
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="sensors-inside",
        pagination_class=None,
        filterset_class=None,
        renderer_classes=[JSONRenderer],
    )
    def sensors_inside(self, request, pk=None):
        sensors = selectors.sensors_inside_area(area=self.get_object(), caller=caller_of(request))
        return Response(SensorInsideSerializer(sensors, many=True).data)

    @extend_schema(
        summary="Place the sensors inside the area's polygon in the area, from `at` (the owner's steward)",
        request=PlaceSensorsInsideSerializer,
        responses=SensorInsideSerializer(many=True),
        filters=False,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="sensors-inside/place",
        pagination_class=None,
        filterset_class=None,
        renderer_classes=[JSONRenderer],
    )
    def place_sensors_inside(self, request, pk=None):
        area = self.get_object()
        serializer = PlaceSensorsInsideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        caller = caller_of(request)
        inside = {sensor.pk: sensor for sensor in selectors.sensors_inside_area(area=area, caller=caller)}
        if "sensors" in data:
            unknown = {
                str(index): ["Not a sensor inside this area's polygon that you may place (GET .../sensors-inside/)."]
                for index, pk in enumerate(data["sensors"])
                if pk not in inside
            }
            if unknown:
                raise ValidationError({"sensors": unknown})
            chosen = [inside[pk] for pk in dict.fromkeys(data.pop("sensors"))]
        else:
            chosen = [sensor for sensor in inside.values() if sensor.placed != "here"]
        services.area_place_sensors(caller=caller, area=area, sensors=chosen, **data)
        sensors = selectors.sensors_inside_area(area=area, caller=caller)
        return Response(SensorInsideSerializer(sensors, many=True).data)


class RegisterPagination(PageNumberPagination):
    page_size = 200
    page_size_query_param = "page_size"
    max_page_size = 500


@extend_schema_view(
    list=extend_schema(summary="The public sensor register (no login)"),
    retrieve=extend_schema(summary="One sensor in the public register"),
)
class PublicSensorViewSet(PublicReadOnlyViewSet):
    """Active, public sensors: what, where, who, why, personal data, retention, contact."""

    openapi_tag = "register"
    queryset = selectors.register_sensors()
    serializer_class = PublicSensorSerializer
    filterset_class = SensorFilterSet
    pagination_class = RegisterPagination
    renderer_classes = RENDERERS
    geojson_geometry_field = "location"

    @extend_schema(
        summary="Restricted sensors, as counts per type and area (never a location)",
        responses=RestrictedSummarySerializer(many=True),
        filters=False,
    )
    @action(
        detail=False,
        methods=["get"],
        pagination_class=None,
        renderer_classes=[JSONRenderer],
        filterset_class=None,
    )
    def restricted(self, request):
        return Response(RestrictedSummarySerializer(selectors.register_restricted_summary(), many=True).data)

    @extend_schema(
        summary="Where a sensor of the register stood over time (a restricted sensor's placements are not public)",
        responses=PlacementSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, renderer_classes=[JSONRenderer], filterset_class=None)
    def placements(self, request, pk=None):
        return Response(PlacementSerializer(selectors.sensor_placements(sensor=self.get_object()), many=True).data)
