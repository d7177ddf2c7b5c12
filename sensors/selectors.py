"""Reads for sensors: the public register and what a caller's organisations see."""

from datetime import datetime

from django.db.models import Count, Max, Min, Q, QuerySet

from accounts.selectors import Caller
from datasets.models import Dataset, Record
from sensors.geometry import points_inside
from sensors.models import Area, Placement, Sensor, SensorEvent, SensorStatus, Visibility
from sensors.service_life import ServiceLife, in_service_q

# Statuses of a sensor its controller confirmed: it has a service life, and stays in the register (a
# suspended or removed sensor is shown as such, with its history: its data may still be used).
CONFIRMED = [SensorStatus.ACTIVE, SensorStatus.SUSPENDED, SensorStatus.REMOVED]
# Statuses of a sensor that is out there now (the restricted summary counts these).
DEPLOYED = [SensorStatus.ACTIVE, SensorStatus.SUSPENDED]


def in_register_q(prefix: str = "") -> Q:
    """What makes a sensor public: confirmed and not restricted. Everything the platform publishes about
    sensors (the register, the catalogue, coverage) is built from these; `in_register` is its Python form."""
    return Q(**{f"{prefix}status__in": CONFIRMED, f"{prefix}visibility": Visibility.PUBLIC})


def in_register(sensor: Sensor) -> bool:
    """`in_register_q` for a sensor already loaded (e.g. prefetched with a page of datasets)."""
    return sensor.status in CONFIRMED and sensor.visibility == Visibility.PUBLIC


def sensors_visible_q(caller: Caller) -> Q:
    """Sensors a caller may see: those in the register, and those its organisations control or operate."""
    mine = caller.organisation_ids
    return in_register_q() | Q(controller_id__in=mine) | Q(operator_id__in=mine)


def sensor_visible_to(sensor: Sensor, caller: Caller) -> bool:
    """`sensors_visible_q` for a sensor already loaded."""
    mine = caller.organisation_ids
    return in_register(sensor) or sensor.controller_id in mine or sensor.operator_id in mine


def register_sensors() -> QuerySet[Sensor]:
    """Sensors in the public register: confirmed (active, suspended or removed) and not restricted."""
    return (
        Sensor.objects.filter(in_register_q())
        .select_related("sensor_type", "controller", "operator", "area")
        .prefetch_related("active_periods", "suspensions")
    )


def register_restricted_summary() -> list[dict]:
    """Restricted sensors out there now (active or suspended) as counts per type and area: never a
    location or a name."""
    rows = (
        Sensor.objects.filter(status__in=DEPLOYED, visibility=Visibility.RESTRICTED)
        .values("sensor_type__code", "sensor_type__name_en", "sensor_type__name_nl", "area_id", "area__name")
        .annotate(count=Count("id"))
        .order_by("sensor_type__code", "area__name")
    )
    return [
        {
            "sensor_type": row["sensor_type__code"],
            "sensor_type_name_en": row["sensor_type__name_en"],
            "sensor_type_name_nl": row["sensor_type__name_nl"],
            "area": row["area_id"],
            "area_name": row["area__name"],
            "count": row["count"],
        }
        for row in rows
    ]


def active_at(queryset: QuerySet[Sensor], moment: datetime) -> QuerySet[Sensor]:
    """Sensors in service at `moment` (sensors.service_life: the one definition, half-open)."""
    return queryset.filter(in_service_q(moment))


def in_bbox(queryset: QuerySet[Sensor], min_lon: float, min_lat: float, max_lon: float, max_lat: float):
    """Sensors whose point lies in the box, or whose area's bounding box overlaps it."""
    point_inside = Q(longitude__gte=min_lon, longitude__lte=max_lon, latitude__gte=min_lat, latitude__lte=max_lat)
    overlapping_areas = areas_in_bbox(Area.objects.all(), min_lon, min_lat, max_lon, max_lat)
    return queryset.filter(point_inside | Q(area__in=overlapping_areas))


def areas_in_bbox(queryset, min_lon: float, min_lat: float, max_lon: float, max_lat: float):
    """Areas whose bounding box overlaps the box."""
    return queryset.filter(min_lon__lte=max_lon, max_lon__gte=min_lon, min_lat__lte=max_lat, max_lat__gte=min_lat)


def sensors_inside_area(*, area: Area, caller: Caller) -> list[Sensor]:
    """The sensors that may be placed in `area`, proposed from its polygon: those the caller may see, that
    the area's owner controls, whose location lies inside the polygon (holes excluded, the boundary
    included); removed ones too, since their past records belong to the place where they stood. Each
    carries `placed`: `here` (its placement in force is in this area), `elsewhere` (in another area) or
    `nowhere`, and `placed_since` (the start of its open placement; None: since installed, or none). The
    bounding box narrows them in the database; shapely decides."""
    candidates = {
        sensor.pk: sensor
        for sensor in Sensor.objects.filter(
            sensors_visible_q(caller),
            controller_id=area.owner_id,
            longitude__gte=area.min_lon,
            longitude__lte=area.max_lon,
            latitude__gte=area.min_lat,
            latitude__lte=area.max_lat,
        ).select_related("area")
    }
    inside = points_inside(area.geometry, {pk: (s.longitude, s.latitude) for pk, s in candidates.items()})
    open_since = dict(
        Placement.objects.filter(sensor_id__in=inside, ends_at__isnull=True).values_list("sensor_id", "starts_at")
    )
    sensors = [candidates[pk] for pk in sorted(inside)]
    for sensor in sensors:
        sensor.placed = "nowhere" if sensor.area_id is None else "here" if sensor.area_id == area.pk else "elsewhere"
        sensor.placed_since = open_since.get(sensor.pk)
    return sensors


def sensor_placements(*, sensor: Sensor) -> list[Placement]:
    """Where the sensor stood, in time order (the one without a start first)."""
    placements = list(Placement.objects.filter(sensor_id=sensor.pk).select_related("area"))
    return sorted(placements, key=lambda p: (p.starts_at is not None, p.starts_at or datetime.min, p.pk))


# What a request may name (api.fields scopes) -----------------------------------------------------


def areas_owned(*, caller: Caller) -> QuerySet[Area]:
    """The areas of the caller's organisations: what a dataset may name (it publishes their outline)."""
    return Area.objects.filter(owner_id__in=caller.organisation_ids)


def areas_for_sensors(*, caller: Caller) -> QuerySet[Area]:
    """Areas a sensor may be placed in: the caller's organisations' own, those the public register names
    (by id and name: the areas of active sensors, restricted ones counted per area), and those of the
    sensors the caller's organisations control or operate. Never another organisation's private area."""
    mine = caller.organisation_ids
    named = Sensor.objects.filter(
        Q(status__in=CONFIRMED) | Q(controller_id__in=mine) | Q(operator_id__in=mine), area__isnull=False
    ).values("area_id")
    return Area.objects.filter(Q(owner_id__in=mine) | Q(pk__in=named))


def sensors_controlled_or_operated(*, caller: Caller) -> QuerySet[Sensor]:
    """The sensors of the caller's organisations: those a dataset may be fed by."""
    mine = caller.organisation_ids
    return Sensor.objects.filter(Q(controller_id__in=mine) | Q(operator_id__in=mine))


# A sensor's own records, counted for its controller ----------------------------------------------


def records_outside_service(*, sensor: Sensor) -> dict:
    """How many stored records of `sensor` lie outside its service life (in any dataset), the first and the
    last moment: what a change of the life tells its controller, since the records are kept (data is
    evidence, docs/adr/0006-sensor-service-life.md).

    Not a data read, so not through the purpose guard: a count and two moments about the controller's own
    sensor, no value of any record, given to the sensor's controller only (sensors.services). Hence the
    escape hatch, with its own reason."""
    life = ServiceLife.of(sensor)
    # Only datasets of its controller or operator can hold its records (datasets.services._check_sensors);
    # naming them lets the records' natural-key index (dataset, sensor, observed_from) find the rows.
    datasets = Dataset.objects.filter(owner_id__in=[sensor.controller_id, sensor.operator_id]).values("pk")
    return (
        Record.objects.unguarded("service_life")
        .filter(dataset_id__in=datasets, sensor_id=sensor.pk)
        .filter(life.outside_q("observed_from"))
        .aggregate(count=Count("pk"), first=Min("observed_from"), last=Max("observed_from"))
    )


def sensor_history(*, sensor: Sensor, caller: Caller) -> list[SensorEvent]:
    """The sensor's history as the caller may read it: what a service-life change left outside the life
    (`records_outside_service`) only for members of its controller; the operator learns nothing new."""
    events = list(sensor.events.select_related("actor_user", "actor_organisation"))
    if sensor.controller_id not in caller.organisation_ids:
        for event in events:
            event.changes.pop("records_outside_service", None)
    return events
