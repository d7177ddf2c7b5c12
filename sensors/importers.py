"""Bulk import of sensors from CSV, through a named column mapping (documented in docs/guides).

`platform`: the platform's own column names. `melbourne`: the City of Melbourne's published
sensor-locations file, imported unchanged. An import is atomic: one bad row stores nothing, and the
answer lists every bad row by its CSV line number.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Organisation
from accounts.selectors import Caller
from api.parsers import csv_rows
from api.problems import Conflict, ItemsRejected, error_pointers
from sensors import selectors, services
from sensors.models import IdentifiersKept, Measure, SensorStatus, SensorType, Visibility


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)  # {"line", "reference", "detail"}: what was assumed


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in {"true", "yes", "1", "ja"}:
        return True
    if value in {"false", "no", "0", "nee", ""}:
        return False
    raise ValueError(f"{text!r} is not true or false.")


def _date(text: str, formats=("%Y-%m-%d", "%Y/%m/%d")) -> date | None:
    text = text.strip()
    if not text:
        return None
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (YYYY-MM-DD).")


def _moment(text: str) -> datetime | None:
    """A moment: ISO 8601 with a UTC offset, or a date alone (YYYY-MM-DD or YYYY/MM/DD), read as midnight UTC."""
    text = text.strip()
    if not text:
        return None
    if len(text) > 10:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a moment (YYYY-MM-DDTHH:MM:SS+HH:MM) or a date.") from None
        if moment.tzinfo is None:
            raise ValueError(f"{text!r} has no UTC offset (add Z or +HH:MM).")
        return moment.astimezone(UTC)
    return datetime.combine(_date(text), time(0), tzinfo=UTC)


def _float(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def _choice(text: str, choices, default):
    text = text.strip() or default
    if text not in choices:
        raise ValueError(f"{text!r} is not one of {', '.join(choices)}.")
    return text


def _measures(text: str) -> list[str]:
    measures = [part.strip() for part in text.split(";") if part.strip()]
    for measure in measures:
        _choice(measure, Measure.values, None)
    return measures


def map_platform(row: dict, defaults: dict) -> tuple[dict, str, datetime | None]:
    """The platform's own columns (see docs/guides/municipality.md); returns fields, status, removal moment.

    `area` (optional) names an area of the controller: the sensor stands there (sensors.services keeps its
    placements: a new sensor since its installation, a confirmed one moved at the time of the import).

    `removed_at` (a moment or a date) states when a removed sensor was removed; the former `active_until`
    (the last day in service) is still read, as a removal at midnight UTC the day after."""
    fields = {
        "reference": row["reference"].strip(),
        "name": row["name"].strip(),
        "description": row.get("description", "").strip(),
        "sensor_type": row.get("sensor_type", "").strip() or defaults["sensor_type"],
        "latitude": _float(row.get("latitude", "")),
        "longitude": _float(row.get("longitude", "")),
        "measures": _measures(row.get("measures", "")),
        "personal_data_at_edge": _bool(row.get("personal_data_at_edge", "") or str(defaults["personal_data_at_edge"])),
        "raw_data_retention_hours": int(row.get("raw_data_retention_hours", "") or 0),
        "identifiers_kept": _choice(row.get("identifiers_kept", ""), IdentifiersKept.values, IdentifiersKept.NONE),
        "anonymisation_method": row.get("anonymisation_method", "").strip(),
        "legal_basis": row.get("legal_basis", "").strip() or defaults["legal_basis"],
        "contact_email": row.get("contact_email", "").strip() or defaults["contact_email"],
        "installed_at": _moment(row.get("installed_at", "")),
        "visibility": _choice(row.get("visibility", ""), Visibility.values, Visibility.PUBLIC),
        "restriction_reason": row.get("restriction_reason", "").strip(),
    }
    if "area" in row:
        # An area of the controller, by name; an empty cell: in no area. Only areas the importer may name
        # (api.fields' scope for sensors): another's private area reads as one that does not exist.
        name = (row["area"] or "").strip()
        if name and name not in defaults["areas"]:
            raise ValidationError({"area": f"No area named {name!r} of the controller that you may name."})
        fields["area"] = defaults["areas"][name] if name else None
    removed_at = _moment(row.get("removed_at", ""))
    if removed_at is None and (last_day := _date(row.get("active_until", ""))) is not None:
        removed_at = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=UTC)
    default = SensorStatus.REMOVED if removed_at is not None else SensorStatus.ACTIVE
    status = _choice(row.get("status", ""), [SensorStatus.ACTIVE, SensorStatus.REMOVED], default)
    if removed_at is not None and status != SensorStatus.REMOVED:
        raise ValueError("removed_at (or active_until) is given, but the status is not removed.")
    return fields, status, removed_at


MELBOURNE_STATUS = {"A": SensorStatus.ACTIVE, "R": SensorStatus.REMOVED}


def map_melbourne(row: dict, defaults: dict) -> tuple[dict, str, None]:
    """City of Melbourne pedestrian counting system, sensor-locations.csv, unchanged.

    sensor_id -> reference; sensor_description -> name; sensor_name, the two directions and note ->
    description; installation_date (YYYY/MM/DD) -> installed_at (midnight UTC); status A/R -> active/removed
    (the file gives no removal date: a sensor is recorded as removed when an import first sees it removed);
    latitude, longitude -> location; the `location` column repeats them and is ignored. Every sensor
    counts people passing a line in two directions (measure count_at_line).
    """
    status_code = row["status"].strip()
    if status_code not in MELBOURNE_STATUS:
        raise ValueError(f"status {status_code!r} is neither A (active) nor R (removed).")
    parts = [f"Short name {row['sensor_name'].strip()}."]
    directions = [row.get(f"direction_{n}", "").strip() for n in (1, 2)]
    if all(directions):
        parts.append(f"Counts people walking {directions[0]} and {directions[1]}.")
    if row.get("note", "").strip():
        parts.append(row["note"].strip())
    fields = {
        "reference": row["sensor_id"].strip(),
        "name": row["sensor_description"].strip(),
        "description": " ".join(parts),
        "sensor_type": defaults["sensor_type"],
        "latitude": _float(row["latitude"]),
        "longitude": _float(row["longitude"]),
        "measures": [Measure.COUNT_AT_LINE],
        "personal_data_at_edge": defaults["personal_data_at_edge"],
        "raw_data_retention_hours": 0,
        "identifiers_kept": IdentifiersKept.NONE,
        "anonymisation_method": "",
        "legal_basis": defaults["legal_basis"],
        "contact_email": defaults["contact_email"],
        "installed_at": _moment(row["installation_date"]),
        "visibility": Visibility.PUBLIC,
        "restriction_reason": "",
    }
    return fields, MELBOURNE_STATUS[status_code], None


MAPPINGS = {
    "platform": (map_platform, {"reference", "name"}),
    "melbourne": (
        map_melbourne,
        {"sensor_id", "sensor_description", "sensor_name", "installation_date", "status"},
    ),
}


def sensors_import(
    *,
    caller: Caller,
    text: str,
    mapping: str,
    controller: Organisation,
    operator: Organisation,
    sensor_type: str,
    personal_data_at_edge: bool = False,
    legal_basis: str = "",
    contact_email: str = "",
) -> ImportResult:
    """Import every row or none. Rows are keyed on (operator, reference): a re-import updates."""
    if mapping not in MAPPINGS:
        raise ValidationError({"mapping": f"Unknown mapping; use one of: {', '.join(MAPPINGS)}."})
    map_row, required_columns = MAPPINGS[mapping]
    types = {t.code: t for t in SensorType.objects.all()}
    if sensor_type not in types:
        raise ValidationError({"sensor_type": f"Unknown sensor type {sensor_type!r}."})
    is_controller = caller.has_role(services.DECIDING_ROLES, organisation_id=controller.pk)
    is_operator = caller.has_role(services.REGISTERING_ROLES, organisation_id=operator.pk)
    if not is_controller and not is_operator:
        raise services.Forbidden("Import as the controller's data steward or admin, or as the operator.", "not_allowed")
    defaults = {
        "sensor_type": sensor_type,
        "personal_data_at_edge": personal_data_at_edge,
        "legal_basis": legal_basis,
        "contact_email": contact_email or controller.contact_email,
        "areas": {a.name: a for a in selectors.areas_for_sensors(caller=caller).filter(owner=controller)},
    }
    reader, rows = csv_rows(text)
    missing = required_columns - set(reader.fieldnames or [])
    if missing:
        raise _rejected([{"line": 1, "column": None, "detail": f"Missing columns: {', '.join(sorted(missing))}."}])
    result = ImportResult()
    with transaction.atomic():
        for line, row in rows:
            if not any((value or "").strip() for value in row.values()):
                continue  # blank trailing lines are common in exported files
            result.rows += 1
            try:
                fields, status, removed_at = map_row(row, defaults)
                fields["sensor_type"] = types.get(fields["sensor_type"]) or _unknown_type(fields["sensor_type"])
                # The controller's own import states the status; an operator's import only proposes.
                status = status if is_controller else SensorStatus.PROPOSED
                with transaction.atomic():
                    outcome, note = services.sensor_import_row(
                        caller=caller,
                        controller=controller,
                        operator=operator,
                        status=status,
                        fields=fields,
                        may_register=is_operator,
                        as_controller=is_controller,
                        acting_for=controller if is_controller else operator,
                        removed_at=removed_at,
                    )
                setattr(result, outcome, getattr(result, outcome) + 1)
                if note:
                    result.notes.append({"line": line, "reference": fields["reference"], "detail": note})
            except (ValueError, KeyError) as error:
                result.errors.append({"line": line, "column": None, "detail": str(error).strip("'\"")})
            except ValidationError as error:
                for problem in error_pointers(error.message_dict):
                    result.errors.append(
                        {"line": line, "column": problem["pointer"].lstrip("/"), "detail": problem["detail"]}
                    )
            except Conflict as error:
                result.errors.append({"line": line, "column": "reference", "detail": str(error.detail)})
        if result.errors:
            transaction.set_rollback(True)
    if result.errors:
        raise _rejected(result.errors)
    return result


def _rejected(errors: list[dict]) -> ItemsRejected:
    # Every problem has a pointer (docs/errors.md): into the CSV, `/<line>` or `/<line>/<column>`.
    for error in errors:
        error.setdefault("pointer", "/".join(["", str(error["line"]), *([error["column"]] if error["column"] else [])]))
    return ItemsRejected(f"{len(errors)} problem(s) in the CSV; nothing was stored. See `errors`.", errors)


def _unknown_type(code: str):
    raise ValueError(f"Unknown sensor type {code!r}.")
