"""Writes for sensors and areas. Every change to a sensor leaves a SensorEvent (who, when, what)."""

import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils import timezone
from rest_framework.exceptions import ValidationError as DRFValidationError

from accounts.models import Organisation, OrganisationKind, Role
from accounts.selectors import Caller
from api.problems import Conflict, Forbidden, NotOffered
from sensors import selectors
from sensors.geometry import GeometryError, check_point, polygon_facts
from sensors.models import (
    ActivePeriod,
    Area,
    Measure,
    Placement,
    Sensor,
    SensorEvent,
    SensorStatus,
    Suspension,
    Visibility,
)
from sensors.placements import Span, changed_span, check_placements, default_direction, ordered
from sensors.service_life import check_life, status_of
from sensors.signals import placements_changed

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
    data = model_to_dict(sensor, fields=[*SENSOR_FIELDS, "status", "removed_at"])
    data["controller"] = sensor.controller.slug
    data["operator"] = sensor.operator.slug
    data["sensor_type"] = sensor.sensor_type.code
    data["active_periods"] = [
        {"starts_at": p.starts_at, "ends_at": p.ends_at, "label": p.label} for p in sensor.active_periods.all()
    ]
    data["suspensions"] = [{"starts_at": s.starts_at, "ends_at": s.ends_at} for s in sensor.suspensions.all()]
    data["placements"] = [
        {"area": s.area_id, "direction": s.direction, "starts_at": s.starts_at, "ends_at": s.ends_at}
        for s in _spans(sensor)
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


def _outside_json(found: dict) -> dict | None:
    """records_outside_service as JSON for the sensor's history (None: there are none)."""
    return json.loads(json.dumps(found, cls=DjangoJSONEncoder)) if found["count"] else None


def _outside_service(sensor: Sensor) -> dict | None:
    """The sensor's stored records outside its service life, as JSON for its history (None: none)."""
    return _outside_json(selectors.records_outside_service(sensor=sensor))


def _tell_outside_service(sensor: Sensor, before: dict | None, changes: dict) -> None:
    """After a change of the service life: the records it left outside (or brought back in) go into the
    change's history entry, and onto the sensor for the controller's answer (`records_outside_service`).
    They are kept: data is evidence; the controller decides (docs/guides/municipality.md, section 1)."""
    found = selectors.records_outside_service(sensor=sensor)
    after = _outside_json(found)
    if after != before:
        changes["records_outside_service"] = [before, after]
    sensor.records_outside_service = found


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
    if sensor.pk is not None:
        # An open suspension ends with the removal (the services close it when they save one).
        suspensions = [
            (a, b if b is not None or sensor.removed_at is None else sensor.removed_at)
            for a, b in sensor.suspensions.values_list("starts_at", "ends_at")
        ]
        life = check_life(installed_at=sensor.installed_at, removed_at=sensor.removed_at, suspensions=suspensions)
        if life:
            # A new installation moment that the recorded suspensions or removal contradict.
            errors["installed_at"] = "Lies after a suspension or the removal: " + " ".join(life.values())
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


# Placements: where a sensor stood over time (sensors/placements.py). Changed only with the sensor row
# locked (FOR UPDATE) or not yet visible to others (registration, an import's new row).


def _spans(sensor: Sensor) -> list[Span]:
    if sensor.pk is None:
        return []
    return ordered([Span.of(p) for p in Placement.objects.filter(sensor_id=sensor.pk)])


def _set_spans(sensor: Sensor, spans: list[Span]) -> None:
    """Replace the sensor's placements by `spans`; `Sensor.area` becomes the area of the open one (the one in
    force now: no placement starts in the future), saved by the caller. Receivers of placements_changed
    (the area rollups) hear the span whose attribution changed, inside this transaction."""
    before, spans = _spans(sensor), ordered(spans)
    if before != spans:
        Placement.objects.filter(sensor_id=sensor.pk).delete()
        Placement.objects.bulk_create(
            Placement(sensor_id=sensor.pk, area_id=s.area_id, direction=s.direction, starts_at=s.starts_at,
                      ends_at=s.ends_at)
            for s in spans
        )  # fmt: skip
        changed = changed_span(before, spans)
        if changed is not None:
            placements_changed.send(sender=Placement, sensor_id=sensor.pk, start=changed[0], end=changed[1])
    open_area = spans[-1].area_id if spans and spans[-1].ends_at is None else None
    if sensor.area_id != open_area:
        sensor.area = None if open_area is None else Area.objects.get(pk=open_area)
        sensor.save(update_fields=["area", "updated_at"])


def _moved(spans: list[Span], area_id: int | None, direction: str, at: datetime, field: str = "at") -> list[Span]:
    """The placements after a move at `at` to `area_id` (None: taken out of every area): the open placement
    ends at `at`, the next starts there. `at` lies after every recorded placement moment."""
    starts = [s.starts_at for s in spans if s.starts_at is not None]
    ends = [s.ends_at for s in spans if s.ends_at is not None]
    if any(m >= at for m in starts) or any(m > at for m in ends):
        latest = max(starts + ends)
        raise ValidationError(
            {
                field: f"Must be after the sensor's last placement moment ({latest.isoformat()}); to change earlier "
                "placements, correct them (PUT .../placements/)."
            }
        )
    current = spans[-1] if spans and spans[-1].ends_at is None else None
    if current is not None and (current.area_id, current.direction) == (area_id, direction):
        return spans  # already there, the same way round
    kept = [*spans[:-1], Span(current.area_id, current.direction, current.starts_at, at)] if current else spans
    return kept if area_id is None else [*kept, Span(area_id, direction, at, None)]


def _follow_installation(spans: list[Span], installed_before, installed_after) -> list[Span]:
    """A first placement that started at the installation keeps starting there when the installation moment
    is corrected (while it still ends after it)."""
    if installed_before == installed_after or not spans or spans[0].starts_at != installed_before:
        return spans
    first = spans[0]
    if installed_after is not None and first.ends_at is not None and installed_after >= first.ends_at:
        return spans
    return [Span(first.area_id, first.direction, installed_after, first.ends_at), *spans[1:]]


def _upkeep_placements(sensor: Sensor, *, area_before: int | None, installed_before, at: datetime | None = None):
    """After a change of the sensor's `area` or `installed_at` (registration, update, import): a proposed
    sensor stands in its area from its installation (a change while proposed corrects, it does not move);
    a confirmed one moves at `at` (default now), its earlier placements kept; one never placed stands in its
    new area since its installation."""
    spans = _spans(sensor)
    if sensor.status == SensorStatus.PROPOSED:
        if sensor.area_id is None:
            new = []
        else:
            same = [s for s in spans if s.area_id == sensor.area_id]
            direction = same[-1].direction if same else default_direction(sensor.measures)
            new = [Span(sensor.area_id, direction, sensor.installed_at, None)]
    else:
        new = _follow_installation(spans, installed_before, sensor.installed_at)
        direction = default_direction(sensor.measures)
        if sensor.area_id != area_before and not new and at is None and sensor.area_id is not None:
            new = [Span(sensor.area_id, direction, sensor.installed_at, None)]  # never placed: since installed
        elif sensor.area_id != area_before:
            new = _moved(new, sensor.area_id, direction, at or timezone.now(), "area")
    _set_spans(sensor, new)


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
    _upkeep_placements(sensor, area_before=None, installed_before=None)
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
    # A removed sensor stays in the register with its history: its details can still be corrected.
    sensor = Sensor.objects.select_for_update().get(pk=sensor.pk)
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
    # installed_at and active_periods are part of the service life: the controller hears what they leave out.
    outside_before = _outside_service(sensor) if is_controller else None
    area_before, installed_before = sensor.area_id, sensor.installed_at
    for name, value in changes.items():
        setattr(sensor, name, value)
    _validate(sensor)
    _save(sensor)
    _set_periods(sensor, active_periods)
    # A new area is a move, now (POST .../move/ states when); a new installation moves a first placement.
    _upkeep_placements(sensor, area_before=area_before, installed_before=installed_before)
    diff = _diff(before, _snapshot(sensor))
    if is_controller:
        _tell_outside_service(sensor, outside_before, diff)
    if diff:
        _record(sensor, SensorEvent.Action.UPDATED, caller, acting_for=acting_for, changes=diff)
    return sensor


# How far ahead of the platform's clock a stated moment may lie (clocks differ a little).
CLOCK_TOLERANCE = timedelta(minutes=5)

# Status changes the controller decides: action -> statuses it is allowed from.
TRANSITIONS = {
    SensorEvent.Action.CONFIRMED: {SensorStatus.PROPOSED},
    SensorEvent.Action.SUSPENDED: {SensorStatus.ACTIVE},
    # Resuming a removed sensor reinstates it: the time it was removed counts as a suspension.
    SensorEvent.Action.RESUMED: {SensorStatus.SUSPENDED, SensorStatus.REMOVED},
    SensorEvent.Action.REMOVED: {SensorStatus.PROPOSED, SensorStatus.ACTIVE, SensorStatus.SUSPENDED},
}


def _last_life_moment(sensor: Sensor) -> datetime | None:
    """The latest moment of the sensor's service life so far: a new event may not lie before it."""
    moments = [sensor.installed_at, sensor.removed_at]
    for starts_at, ends_at in sensor.suspensions.values_list("starts_at", "ends_at"):
        moments += [starts_at, ends_at]
    return max((m for m in moments if m is not None), default=None)


def _check_moment(sensor: Sensor, at: datetime, now: datetime) -> None:
    if at > now + CLOCK_TOLERANCE:
        raise ValidationError({"at": "Lies in the future: say when it happened, at the latest now."})
    last = _last_life_moment(sensor)
    if last is not None and at <= last:
        raise ValidationError(
            {
                "at": f"Must be after the sensor's last recorded service event ({last.isoformat()}); to change "
                "earlier moments, correct the service life (PUT .../service-life/)."
            }
        )


@transaction.atomic
def sensor_transition(
    *, caller: Caller, sensor: Sensor, action: str, note: str = "", at: datetime | None = None
) -> Sensor:
    """Confirm, suspend, resume or remove, at `at` (default now): decided by the controller's data steward
    or admin. A suspension, resumption or removal is recorded in the sensor's service life at that moment."""
    sensor = Sensor.objects.select_for_update().select_related("controller").get(pk=sensor.pk)
    _require_role(
        caller,
        DECIDING_ROLES,
        sensor.controller,
        "not_the_controller",
        f"Only a data steward or admin of the controller ({sensor.controller.name}) can do this.",
    )
    if sensor.status not in TRANSITIONS[action]:
        raise Conflict(f"A {sensor.status} sensor cannot be {action}.", "wrong_status")
    now = timezone.now()
    moment = now if at is None else at
    before = _snapshot(sensor)
    outside_before = _outside_service(sensor)
    if action == SensorEvent.Action.CONFIRMED:
        sensor.confirmed_at = now
    else:
        _check_moment(sensor, moment, now)
    if action == SensorEvent.Action.SUSPENDED:
        Suspension.objects.create(sensor=sensor, starts_at=moment)
    elif action == SensorEvent.Action.RESUMED and sensor.removed_at is not None:
        Suspension.objects.create(sensor=sensor, starts_at=sensor.removed_at, ends_at=moment)
        sensor.removed_at = None
    elif action == SensorEvent.Action.RESUMED:
        sensor.suspensions.filter(ends_at__isnull=True).update(ends_at=moment)
    elif action == SensorEvent.Action.REMOVED:
        sensor.suspensions.filter(ends_at__isnull=True).update(ends_at=moment)
        sensor.removed_at = moment
    suspensions = list(sensor.suspensions.values_list("starts_at", "ends_at"))
    sensor.status = status_of(
        confirmed=sensor.status != SensorStatus.PROPOSED or action == SensorEvent.Action.CONFIRMED,
        removed_at=sensor.removed_at,
        suspensions=suspensions,
    )
    if action == SensorEvent.Action.REMOVED and sensor.confirmed_at is None:
        sensor.status = SensorStatus.REMOVED  # a proposal withdrawn: removed, never in service
    sensor.save(update_fields=["status", "confirmed_at", "removed_at", "updated_at"])
    changes = _diff(before, _snapshot(sensor))
    _tell_outside_service(sensor, outside_before, changes)
    _record(sensor, action, caller, acting_for=sensor.controller, changes=changes, note=note[:300])
    return sensor


def _nested_errors(errors: dict[str, str]) -> DRFValidationError:
    """`{"suspensions/1/ends_at": ...}` as the nested detail whose pointer is /suspensions/1/ends_at."""
    nested: dict = {}
    for path, message in errors.items():
        *parents, last = path.split("/")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = [message]
    return DRFValidationError(nested)


@transaction.atomic
def sensor_service_life_set(
    *,
    caller: Caller,
    sensor: Sensor,
    installed_at: datetime | None,
    removed_at: datetime | None,
    suspensions: list[dict],
    note: str = "",
) -> Sensor:
    """The controller corrects a sensor's whole service life (an earlier installation, a forgotten
    suspension, the real removal date); the change is recorded in its history."""
    sensor = (
        Sensor.objects.select_for_update().select_related("controller", "operator", "sensor_type").get(pk=sensor.pk)
    )
    _require_role(
        caller,
        DECIDING_ROLES,
        sensor.controller,
        "not_the_controller",
        f"Only a data steward or admin of the controller ({sensor.controller.name}) can correct its service life.",
    )
    if sensor.status == SensorStatus.PROPOSED:
        raise Conflict("A proposed sensor has no service life yet: confirm it first.", "wrong_status")
    now = timezone.now()
    pairs = [(s["starts_at"], s.get("ends_at")) for s in suspensions]
    errors = check_life(installed_at=installed_at, removed_at=removed_at, suspensions=pairs)
    latest = max([m for pair in pairs for m in pair if m] + [m for m in (installed_at, removed_at) if m], default=now)
    if latest > now + CLOCK_TOLERANCE:
        errors.setdefault("service_life", "A service life lies in the past: no moment may be in the future.")
    if errors:
        raise _nested_errors(errors)
    before = _snapshot(sensor)
    outside_before = _outside_service(sensor)
    sensor.suspensions.all().delete()
    Suspension.objects.bulk_create(Suspension(sensor=sensor, starts_at=a, ends_at=b) for a, b in pairs)
    installed_before = sensor.installed_at
    sensor.installed_at, sensor.removed_at = installed_at, removed_at
    sensor.status = status_of(confirmed=True, removed_at=removed_at, suspensions=pairs)
    _save(sensor)
    _upkeep_placements(sensor, area_before=sensor.area_id, installed_before=installed_before)
    diff = _diff(before, _snapshot(sensor))
    _tell_outside_service(sensor, outside_before, diff)
    if diff:
        _record(sensor, SensorEvent.Action.UPDATED, caller, acting_for=sensor.controller, changes=diff, note=note)
    return sensor


def _placement_target(caller: Caller, sensor: Sensor, what: str) -> Sensor:
    """The sensor locked for a change of its placements, decided by its controller once confirmed."""
    sensor = (
        Sensor.objects.select_for_update().select_related("controller", "operator", "sensor_type").get(pk=sensor.pk)
    )
    _require_role(
        caller,
        DECIDING_ROLES,
        sensor.controller,
        "not_the_controller",
        f"Only a data steward or admin of the controller ({sensor.controller.name}) can {what}.",
    )
    if sensor.status == SensorStatus.PROPOSED:
        raise Conflict(
            "A proposed sensor stands in its area from its installation: change its `area` (PATCH); moves are "
            "recorded once it is confirmed.",
            "wrong_status",
        )
    return sensor


def _check_area(sensor: Sensor, area: Area | None, field: str, errors: dict) -> None:
    if area is not None and area.owner_id != sensor.controller_id:
        errors[field] = "The area must belong to the sensor's controller."


def _check_still_located(sensor: Sensor, spans: list[Span], field: str, errors: dict) -> None:
    if sensor.latitude is None and not (spans and spans[-1].ends_at is None):
        errors.setdefault(field, "A sensor without a location must stand in an area now: keep an open placement.")


def _placements_changed(sensor: Sensor, caller: Caller, before: dict, note: str) -> Sensor:
    diff = _diff(before, _snapshot(sensor))
    if diff:
        _record(sensor, SensorEvent.Action.UPDATED, caller, acting_for=sensor.controller, changes=diff, note=note)
    return sensor


@transaction.atomic
def sensor_move(
    *,
    caller: Caller,
    sensor: Sensor,
    area: Area | None,
    direction: str | None = None,
    at: datetime | None = None,
    note: str = "",
) -> Sensor:
    """The controller records that a sensor moved at `at` (default now) to `area` (None: out of every area),
    its gate counting `direction` (default: `enters` for a line counter, else `inside`). Its open placement
    ends at `at`; the records before keep their old area. A sensor never placed before stands there since
    its installation when no `at` is given."""
    sensor = _placement_target(caller, sensor, "move it")
    now = timezone.now()
    moment = now if at is None else at
    errors: dict[str, str] = {}
    if moment > now + CLOCK_TOLERANCE:
        errors["at"] = "Lies in the future: say when it happened, at the latest now."
    _check_area(sensor, area, "area", errors)
    if errors:
        raise ValidationError(errors)
    before = _snapshot(sensor)
    direction = direction or default_direction(sensor.measures)
    spans = _spans(sensor)
    if at is None and not spans:
        # Never placed: it has stood there since its installation, unless `at` says otherwise.
        spans = [] if area is None else [Span(area.pk, direction, sensor.installed_at, None)]
    else:
        spans = _moved(spans, None if area is None else area.pk, direction, moment)
    _check_still_located(sensor, spans, "area", errors)
    if errors:
        raise ValidationError(errors)
    _set_spans(sensor, spans)
    return _placements_changed(sensor, caller, before, note[:300])


@transaction.atomic
def sensor_placements_set(*, caller: Caller, sensor: Sensor, placements: list[dict], note: str = "") -> Sensor:
    """The controller corrects where a sensor stood over its whole life (an earlier move, a gate that counted
    the other way): the list replaces its placements, checked as a whole; recorded in its history."""
    sensor = _placement_target(caller, sensor, "correct its placements")
    now = timezone.now()
    default = default_direction(sensor.measures)
    spans = [
        Span(p["area"].pk, p.get("direction") or default, p.get("starts_at"), p.get("ends_at")) for p in placements
    ]
    errors = check_placements(spans)
    for index, placement in enumerate(placements):
        _check_area(sensor, placement["area"], f"placements/{index}/area", errors)
        for name in ("starts_at", "ends_at"):
            if placement.get(name) is not None and placement[name] > now + CLOCK_TOLERANCE:
                errors.setdefault(f"placements/{index}/{name}", "Lies in the future: placements record the past.")
    if not errors:
        _check_still_located(sensor, ordered(spans), "placements", errors)
    if errors:
        raise _nested_errors(errors)
    before = _snapshot(sensor)
    _set_spans(sensor, spans)
    return _placements_changed(sensor, caller, before, note[:300])


@transaction.atomic
def area_place_sensors(
    *,
    caller: Caller,
    area: Area,
    sensors: list[Sensor],
    direction: str | None = None,
    at: datetime | None = None,
    note: str = "",
) -> list[Sensor]:
    """Place the given sensors (proposed from the area's polygon) in `area` from `at` (default now): each
    moves there as with `sensor_move`; those already there are left as they are. All or none."""
    _require_role(
        caller, DECIDING_ROLES, area.owner, "not_the_owner", "Only a data steward or admin of the owner can do this."
    )
    errors: dict[str, str] = {}
    moved = []
    for index, sensor in enumerate(sensors):
        try:
            if sensor.status == SensorStatus.PROPOSED:
                # Not yet confirmed: it stands in its area from its installation (a correction, not a move).
                sensor = sensor_update(caller=caller, sensor=sensor, area=area)
            else:
                sensor = sensor_move(caller=caller, sensor=sensor, area=area, direction=direction, at=at, note=note)
        except ValidationError as error:
            messages = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
            for name, texts in messages.items():
                key = "at" if name == "at" else f"sensors/{index}"
                errors.setdefault(key, " ".join(texts))
        else:
            moved.append(sensor)
    if errors:
        raise _nested_errors(errors)
    return moved


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
    removed_at: datetime | None = None,
) -> tuple[str, str]:
    """Create or update one sensor of an import (by operator and reference); returns the outcome
    (created/updated/unchanged) and a note for the import's answer ("" when there is nothing to say).

    `status` is active or removed (`removed_at`: when; None: the file does not say, so a sensor removed by
    this import is recorded as removed now, and the note says so). An unchanged row writes nothing: no
    history, no new `updated_at`.
    `acting_for`: the organisation the caller imports for (its history names it; default the controller).
    `may_register`: the caller acts for the operator. A controller importing for another operator only
    updates the sensors it controls: the operator's other references are not its to see (whether one is
    in use for another controller must not show), and sensors are registered by their operator.
    `as_controller`: the caller decides for the controller. Without it (an operator's import) only the
    operator's own proposals are updated, and stay proposed: a confirmed sensor is the controller's to
    change, as through the API (`sensor_update`)."""
    # Locked like every other change of a sensor (its placements and service life are checked as a whole).
    existing = Sensor.objects.select_for_update().filter(operator=operator, reference=fields["reference"])
    if not may_register:
        existing = existing.filter(controller=controller)
    existing = existing.first()
    if existing is None and not may_register:
        raise ValidationError(
            {"reference": f"You control no sensor of {operator.name} with this reference; its operator registers it."}
        )
    acting_for = acting_for or controller
    now = timezone.now()
    note = ""
    stated = removed_at is not None
    if status == SensorStatus.REMOVED and removed_at is None:
        removed_at = now
        note = "removed; the file gives no removal date, so it is recorded as removed at the time of this import"
    if existing is None:
        sensor = Sensor(controller=controller, operator=operator, status=status, **fields)
        if status != SensorStatus.PROPOSED:
            sensor.confirmed_at = now
        if status == SensorStatus.REMOVED:
            sensor.removed_at = removed_at
        _validate(sensor)
        _save(sensor)
        _set_periods(sensor, periods or [])
        _upkeep_placements(sensor, area_before=None, installed_before=None)
        _record(
            sensor,
            SensorEvent.Action.IMPORTED,
            caller,
            acting_for=acting_for,
            changes=_diff({}, _snapshot(sensor)),
        )
        return "created", note
    if existing.controller_id != controller.pk:
        raise ValidationError(
            {"reference": "This operator's sensor with that reference belongs to another controller."}
        )
    if not as_controller and existing.status != SensorStatus.PROPOSED:
        raise ValidationError(
            {"reference": "This sensor is confirmed: only its controller changes it, not an operator's import."}
        )
    before = _snapshot(existing)
    area_before, installed_before = existing.area_id, existing.installed_at
    for name, value in fields.items():
        setattr(existing, name, value)
    reinstated_from = None
    if as_controller:
        if status == SensorStatus.REMOVED:
            if existing.removed_at is None or stated:
                existing.removed_at = removed_at
            else:
                note = ""  # already removed: its recorded removal moment stands
            existing.status = SensorStatus.REMOVED
        elif existing.status == SensorStatus.REMOVED:
            # The file lists it as in service again: reinstated now, the time it was removed a suspension.
            reinstated_from, existing.removed_at = existing.removed_at, None
            existing.status = SensorStatus.ACTIVE
        elif existing.status == SensorStatus.PROPOSED:
            existing.status = status
        if existing.status != SensorStatus.PROPOSED and existing.confirmed_at is None:
            existing.confirmed_at = now
    _validate(existing)
    # Unchanged is decided on the row's own fields; the placements follow them (so they are not compared).
    after = _snapshot(existing)
    after["placements"] = before["placements"]
    if reinstated_from is not None:
        after["suspensions"] = [*after["suspensions"], {"starts_at": reinstated_from, "ends_at": now}]
        after = json.loads(json.dumps(after, cls=DjangoJSONEncoder))
    if not _diff(before, after):
        return "unchanged", ""
    if existing.status == SensorStatus.REMOVED:
        existing.suspensions.filter(ends_at__isnull=True).update(ends_at=existing.removed_at)
    if reinstated_from is not None:
        Suspension.objects.create(sensor=existing, starts_at=reinstated_from, ends_at=now)
    _save(existing)
    _upkeep_placements(existing, area_before=area_before, installed_before=installed_before)
    diff = _diff(before, _snapshot(existing))
    _record(existing, SensorEvent.Action.IMPORTED, caller, acting_for=acting_for, changes=diff)
    return "updated", note


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
