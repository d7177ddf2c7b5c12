"""Where a sensor stood over time: checks of a whole placement history, and the span a change touched.

A placement is half-open, [starts_at, ends_at): None as start means "since it was installed" (no lower
bound), None as end "still there". A sensor's placements never overlap, and only the last may be open.
`changed_span` says over which time the attribution (area and gate direction) of the sensor's records
differs between two histories: what the area rollups recompute (sensors.signals.placements_changed).
Pure functions on values; sensors.services applies them with the sensor locked.
"""

from dataclasses import dataclass
from datetime import datetime

from sensors.models import GateDirection, Measure


@dataclass(frozen=True)
class Span:
    """One placement as values: the area's id, the gate direction, from, until."""

    area_id: int
    direction: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @classmethod
    def of(cls, placement) -> "Span":
        return cls(placement.area_id, placement.direction, placement.starts_at, placement.ends_at)

    def covers(self, moment: datetime | None) -> bool:
        """Whether the span holds `moment` (None: the beginning of time, before any moment)."""
        after_start = self.starts_at is None or (moment is not None and self.starts_at <= moment)
        return after_start and (self.ends_at is None or moment is None or moment < self.ends_at)


def default_direction(measures) -> str:
    """A sensor that counts at a line counts `in` as entering its area; any other measures inside it."""
    return GateDirection.ENTERS if Measure.COUNT_AT_LINE in (measures or []) else GateDirection.INSIDE


def _start_key(indexed: tuple[int, Span]):
    index, span = indexed
    return (span.starts_at is not None, span.starts_at or datetime.min, index)


def ordered(spans: list[Span]) -> list[Span]:
    """The spans in time order (the one without a start first)."""
    return [span for _, span in sorted(enumerate(spans), key=_start_key)]


def _when(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def check_placements(spans: list[Span], field: str = "placements") -> dict[str, str]:
    """Errors of a whole placement history, keyed by JSON Pointer path into the given list
    (`placements/<n>/<field>`, n the position as given): reversed intervals, overlaps, an open one that is
    not the last, more than one without a start."""
    errors: dict[str, str] = {}
    for index, span in enumerate(spans):
        if span.starts_at is not None and span.ends_at is not None and span.ends_at <= span.starts_at:
            errors[f"{field}/{index}/ends_at"] = "Must be after starts_at (a placement is [starts_at, ends_at))."
    if errors:
        return errors
    previous_index, previous = None, None
    for index, span in sorted(enumerate(spans), key=_start_key):
        if previous is not None:
            where = f"{field}/{index}/starts_at"
            if span.starts_at is None:
                errors[where] = f"Only one placement may have no start; placement {previous_index} has none either."
            elif previous.ends_at is None:
                errors[f"{field}/{previous_index}/ends_at"] = (
                    f"Only the last placement may be open (still there); placement {index} starts after it."
                )
            elif span.starts_at < previous.ends_at:
                errors[where] = (
                    f"Overlaps placement {previous_index}, which ends at {_when(previous.ends_at)}: a sensor stands "
                    "in one place at a time."
                )
        previous_index, previous = index, span
    return errors


def attribution(spans: list[Span], moment: datetime | None) -> tuple[int, str] | None:
    """(area id, direction) of the span holding `moment`, or None where the sensor stood nowhere."""
    for span in spans:
        if span.covers(moment):
            return span.area_id, span.direction
    return None


def changed_span(before: list[Span], after: list[Span]) -> tuple[datetime | None, datetime | None] | None:
    """[start, end) over which records are attributed differently by `after` than by `before` (None as
    start or end: unbounded), or None when every moment keeps its area and direction."""
    bounds = sorted({m for span in (*before, *after) for m in (span.starts_at, span.ends_at) if m is not None})
    # Elementary segments between consecutive bounds: the attribution is constant inside each.
    starts: list[datetime | None] = [None, *bounds]
    first = last = None
    for position, start in enumerate(starts):
        if attribution(before, start) != attribution(after, start):
            end = starts[position + 1] if position + 1 < len(starts) else None
            if first is None:
                first = (start,)
            last = (end,)
    if first is None:
        return None
    return first[0], last[0]
