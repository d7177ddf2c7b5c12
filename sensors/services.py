"""Writes for sensors and areas. Every change to a sensor leaves a SensorEvent (who, when, what)."""

import json
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from accounts.models import Organisation, OrganisationKind, Role
from accounts.selectors import Caller
from api.problems import Conflict, Forbidden, NotOffered
from sensors.geometry import GeometryError, check_point, polygon_facts
from sensors.models import ActivePeriod, Area, Measure, Sensor, SensorEvent, SensorStatus, Visibility

# Roles that may register or edit sensors for their organisation, and that may decide as controller.
REGISTERING_ROLES = {Role.ADMIN, Role.DATA_STEWARD, Role.INTEGRATOR}
DECIDING_ROLES = {Role.ADMIN, Role.DATA_STEWARD}
CONTROLLER_KINDS = set(OrganisationKind.values) - {OrganisationKind.VENDOR}
# Fields an operator may still change while a sensor is proposed; the controller may change all.
SENSOR_FIELDS = [
    "sensor_type",
    "reference",
    "name",
    "description",
    "latitude",
    "longitude",
    "area",
    "measures",
    "personal_data_at_edge",
    "raw_data_retention_hours",
    "identifiers_kept",
    "anonymisation_method",
    "legal_basis",
    "contact_email",
    "installed_at",
    "active_until",
    "visibility",
    "restriction_reason",
]


# Fixed once a sensor is registered: moving a sensor between organisations is not offered.
FIXED_FIELDS = ("controller", "operator")


class TransferNotOffered(NotOffered):
    def __init__(self, field: str):
        super().__init__(
            f"A sensor's {field} is fixed once it is registered: moving a sensor to another organisation is not "
            "offered. Remove it, and have the other organisation's operator register it.",
            "transfer_not_offered",
            pointer=f"/{field}",
        )


def _snapshot(sensor: Sensor) -> dict:
    """The sensor's fields as JSON values, naming organisations and types as the API does."""
    data = model_to_dict(sensor, fields=[*SENSOR_FIELDS, "status"])
    data["controller"] = sensor.controller.slug
    data["operator"] = sensor.operator.slug
    data["sensor_type"] = sensor.sensor_type.code
    data["active_periods"] = [
        {"starts_at": p.starts_at, "ends_at": p.ends_at, "label": p.label} for p in sensor.active_periods.all()
    ]
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _diff(before: dict, after: dict) -> dict:
    return {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}


def _record(sensor: Sensor, action: str, caller: Caller | None, *, acting_for=None, changes=None, note=""):
    SensorEvent.objects.create(
        sensor=sensor,
        action=action,
        actor_user=caller.user if caller is not None and caller.api_key is None else None,
        actor_key_prefix=caller.api_key.prefix if caller is not None and caller.api_key is not None else "",
        actor_organisation=acting_for,
        changes=changes or {},
        note=note,
    )


def _require_role(caller: Caller, roles: Iterable[str], organisation: Organisation, code: str, detail: str) -> None:
    if not caller.has_role(roles, organisation_id=organisation.pk):
        raise Forbidden(detail, code)


# Checked by the domain rules below, or objects already (their existence needs no query).
NOT_CLEANED = ["controller", "operator", "sensor_type", "area", "measures"]


def _validate(sensor: Sensor) -> None:
    """Domain rules on a whole sensor; field errors carry the field name (the JSON Pointer).

    The columns' own limits (length, integer range, e-mail) are checked too, since imports do not pass
    through a serializer: a value the database cannot store is a 422 on its field, not a 500."""
    errors = {}
    try:
        sensor.clean_fields(exclude=NOT_CLEANED)
    except ValidationError as error:
        errors.update(error.message_dict)
    if sensor.controller.kind not in CONTROLLER_KINDS:
        errors["controller"] = "A vendor cannot be the controller: name the municipality or authority that owns it."
    if (sensor.latitude is None) != (sensor.longitude is None):
        errors["location"] = "Give both latitude and longitude, or neither."
    elif sensor.latitude is not None:
        try:
            check_point(sensor.longitude, sensor.latitude)
        except GeometryError as error:
            errors["location"] = str(error)
    if sensor.latitude is None and sensor.area_id is None:
        errors["location"] = "Give a location, an area, or both."
    if sensor.area_id is not None and sensor.area.owner_id != sensor.controller_id:
        errors["area"] = "The area must belong to the sensor's controller."
    unknown = [m for m in sensor.measures if m not in Measure.values]
    if not isinstance(sensor.measures, list) or unknown:
        errors["measures"] = f"Unknown measures: {', '.join(map(str, unknown))}."
    if sensor.visibility == Visibility.RESTRICTED and not sensor.restriction_reason.strip():
        errors["restriction_reason"] = "A restricted sensor needs a stated reason (e.g. police modus operandi)."
    if sensor.installed_at and sensor.active_until and sensor.active_until < sensor.installed_at:
        errors["active_until"] = "Must not be before installed_at."
    if errors:
        raise ValidationError(errors)


def _validate_periods(periods: list[dict]) -> None:
    for index, period in enumerate(periods):
        if period["ends_at"] <= period["starts_at"]:
            raise ValidationError({"active_periods": f"Period {index} must end after it starts."})


def _save(sensor: Sensor) -> None:
    try:
        with transaction.atomic():
            sensor.save()
    except IntegrityError:
        duplicate = (
            Sensor.objects.filter(operator=sensor.operator, reference=sensor.reference).exclude(pk=sensor.pk).exists()
        )
        if duplicate:
            raise Conflict(
                f"The operator already has a sensor with reference {sensor.reference!r}.",
                "duplicate_reference",
                pointer="/reference",
            ) from None
        raise


def _set_periods(sensor: Sensor, periods: list[dict] | None) -> None:
    if periods is None:
        return
    _validate_periods(periods)
    sensor.active_periods.all().delete()
    ActivePeriod.objects.bulk_create(ActivePeriod(sensor=sensor, **period) for period in periods)


@transaction.atomic
def sensor_register(
    *, caller: Caller, controller: Organisation, operator: Organisation, active_periods=None, **fields
) -> Sensor:
    """A vendor (or the controller itself) proposes a sensor; it stays proposed until confirmed."""
    if not (caller.has_role(REGISTERING_ROLES, organisation_id=operator.pk)):
        raise Forbidden(
            "You can register sensors only for an organisation in which you are an admin, data steward or "
            "integrator: name it as operator.",
            "not_the_operator",
        )
    sensor = Sensor(controller=controller, operator=operator, status=SensorStatus.PROPOSED, **fields)
    _validate(sensor)
    _save(sensor)
    _set_periods(sensor, active_periods or [])
    _record(
        sensor,
        SensorEvent.Action.REGISTERED,
        caller,
        acting_for=operator,
        changes=_diff({}, _snapshot(sensor)),
    )
    return sensor


@transaction.atomic
def sensor_update(*, caller: Caller, sensor: Sensor, active_periods=None, **changes) -> Sensor:
    """The controller may change a sensor at any time; the operator only while it is proposed."""
    sensor = Sensor.objects.select_for_update().get(pk=sensor.pk)
    if sensor.status == SensorStatus.REMOVED:
        raise Conflict("A removed sensor cannot be changed.", "sensor_removed")
    is_controller = caller.has_role(DECIDING_ROLES, organisation_id=sensor.controller_id)
    is_operator = caller.has_role(REGISTERING_ROLES, organisation_id=sensor.operator_id)
    if not is_controller and not (is_operator and sensor.status == SensorStatus.PROPOSED):
        raise Forbidden(
            "Once confirmed, only the controller's data steward or admin can change this sensor.",
            "not_the_controller",
        )
    if "reference" in changes and changes["reference"] != sensor.reference and not is_operator:
        # The reference is the operator's key for pushing data, unique among its sensors: whether another
        # value is taken would tell the controller of the operator's other sensors, the controller's or not.
        raise Forbidden("Only the operator changes a sensor's reference: it pushes data with it.", "not_the_operator")
    for name in FIXED_FIELDS:
        if name in changes and changes.pop(name) != getattr(sensor, name):
            raise TransferNotOffered(name)
    # Whom the caller acts for, decided before anything changes: its own organisation, never the other party.
    acting_for = sensor.controller if is_controller else sensor.operator
    before = _snapshot(sensor)
    for name, value in changes.items():
        setattr(sensor, name, value)
    _validate(sensor)
    _save(sensor)
    _set_periods(sensor, active_periods)
    diff = _diff(before, _snapshot(sensor))
    if diff:
        _record(sensor, SensorEvent.Action.UPDATED, caller, acting_for=acting_for, changes=diff)
    return sensor


# Status changes the controller decides: action -> (allowed from, to).
TRANSITIONS = {
    SensorEvent.Action.CONFIRMED: ({SensorStatus.PROPOSED}, SensorStatus.ACTIVE),
    SensorEvent.Action.SUSPENDED: ({SensorStatus.ACTIVE}, SensorStatus.SUSPENDED),
    SensorEvent.Action.RESUMED: ({SensorStatus.SUSPENDED}, SensorStatus.ACTIVE),
    SensorEvent.Action.REMOVED: (
        {SensorStatus.PROPOSED, SensorStatus.ACTIVE, SensorStatus.SUSPENDED},
        SensorStatus.REMOVED,
    ),
}


@transaction.atomic
def sensor_transition(*, caller: Caller, sensor: Sensor, action: str, note: str = "") -> Sensor:
    """Confirm, suspend, resume or remove: decided by the controller's data steward or admin."""
    sensor = Sensor.objects.select_for_update().select_related("controller").get(pk=sensor.pk)
    _require_role(
        caller,
        DECIDING_ROLES,
        sensor.controller,
        "not_the_controller",
        f"Only a data steward or admin of the controller ({sensor.controller.name}) can do this.",
    )
    allowed_from, to = TRANSITIONS[action]
    if sensor.status not in allowed_from:
        raise Conflict(f"A {sensor.status} sensor cannot be {action}.", "wrong_status")
    before = sensor.status
    sensor.status = to
    if action == SensorEvent.Action.CONFIRMED:
        sensor.confirmed_at = timezone.now()
    sensor.save(update_fields=["status", "confirmed_at", "updated_at"])
    _record(
        sensor,
        action,
        caller,
        acting_for=sensor.controller,
        changes={"status": [before, to]},
        note=note[:300],
    )
    return sensor


def sensor_import_row(
    *,
    caller: Caller,
    controller,
    operator,
    status: str,
    fields: dict,
    periods=None,
    may_register: bool = True,
    as_controller: bool = True,
    acting_for: Organisation | None = None,
) -> str:
    """Create or update one sensor of an import (by operator and reference); returns created/updated/unchanged.

    `acting_for`: the organisation the caller imports for (its history names it; default the controller).
    `may_register`: the caller acts for the operator. A controller importing for another operator only
    updates the sensors it controls: the operator's other references are not its to see (whether one is
    in use for another controller must not show), and sensors are registered by their operator.
    `as_controller`: the caller decides for the controller. Without it (an operator's import) only the
    operator's own proposals are updated, and stay proposed: a confirmed sensor is the controller's to
    change, as through the API (`sensor_update`)."""
    existing = Sensor.objects.filter(operator=operator, reference=fields["reference"])
    if not may_register:
        existing = existing.filter(controller=controller)
    existing = existing.first()
    if existing is None and not may_register:
        raise ValidationError(
            {"reference": f"You control no sensor of {operator.name} with this reference; its operator registers it."}
        )
    acting_for = acting_for or controller
    if existing is None:
        sensor = Sensor(controller=controller, operator=operator, status=status, **fields)
        if status == SensorStatus.ACTIVE:
            sensor.confirmed_at = timezone.now()
        _validate(sensor)
        _save(sensor)
        _set_periods(sensor, periods or [])
        _record(
            sensor,
            SensorEvent.Action.IMPORTED,
            caller,
            acting_for=acting_for,
            changes=_diff({}, _snapshot(sensor)),
        )
        return "created"
    if existing.controller_id != controller.pk:
        raise ValidationError(
            {"reference": "This operator's sensor with that reference belongs to another controller."}
        )
    if not as_controller and existing.status != SensorStatus.PROPOSED:
        raise ValidationError(
            {"reference": "This sensor is confirmed: only its controller changes it, not an operator's import."}
        )
    before = _snapshot(existing)
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.status = status if as_controller else existing.status
    _validate(existing)
    _save(existing)
    diff = _diff(before, _snapshot(existing))
    if not diff:
        return "unchanged"
    _record(existing, SensorEvent.Action.IMPORTED, caller, acting_for=acting_for, changes=diff)
    return "updated"


def area_facts(geometry) -> dict:
    try:
        facts = polygon_facts(geometry)
    except GeometryError as error:
        # The pointer is /geometry; the detail says where inside it.
        where = f" (at /geometry{error.pointer})" if error.pointer else ""
        raise ValidationError({"geometry": f"{error.args[0]}{where}"}, code="invalid") from None
    return {
        "surface_m2_computed": round(facts.surface_m2, 2),
        "min_lon": facts.min_lon,
        "min_lat": facts.min_lat,
        "max_lon": facts.max_lon,
        "max_lat": facts.max_lat,
    }


def area_create(*, caller: Caller, owner: Organisation, geometry: dict, **fields) -> Area:
    _require_role(
        caller,
        DECIDING_ROLES,
        owner,
        "not_the_owner",
        "Only a data steward or admin of the owner can add areas.",
    )
    if owner.kind != OrganisationKind.MUNICIPALITY:
        raise ValidationError({"owner": "Areas are owned by a municipality."})
    area = Area(owner=owner, geometry=geometry, **area_facts(geometry), **fields)
    _save_area(area)
    return area


def _save_area(area: Area) -> None:
    """Save an area; a name its owner already uses is a 409 on /name."""
    try:
        with transaction.atomic():
            area.save()
    except IntegrityError:
        raise Conflict(
            f"{area.owner.name} already has an area named {area.name!r}.", "duplicate_name", pointer="/name"
        ) from None


def area_update(*, caller: Caller, area: Area, **changes) -> Area:
    _require_role(
        caller,
        DECIDING_ROLES,
        area.owner,
        "not_the_owner",
        "Only a data steward or admin of the owner can change areas.",
    )
    if "geometry" in changes:
        changes.update(area_facts(changes["geometry"]))
    for name, value in changes.items():
        setattr(area, name, value)
    _save_area(area)
    return area
