"""A sensor's service life: the one definition of "in service at t" (docs/adr/0006-sensor-service-life.md).

A confirmed sensor is in service at `t` when it was installed at or before `t` (an unknown installation
bounds nothing), is not removed at `t`, is not suspended at `t`, and, if it runs only in active periods,
`t` lies in one. Every interval is half-open: in service from its start (inclusive) to its end
(exclusive), so a record at exactly the removal moment, or at the end of an active period, is refused.

`in_service_q` is the database form (selectors, the register); `ServiceLife.refusal` the Python form with
the reason (the ingest, which loads the lives of a dataset's sensors once per batch); `ServiceLife.outside_q`
the form for one sensor's stored records (what a service-life change leaves outside it). tests/sensors
checks that the three agree.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, OuterRef, Q

from sensors.models import ActivePeriod, SensorStatus, Suspension


def in_service_q(moment: datetime) -> Q:
    """Sensors in service at `moment` (a filter on Sensor)."""
    suspended = Suspension.objects.filter(sensor=OuterRef("pk"), starts_at__lte=moment).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=moment)
    )
    periods = ActivePeriod.objects.filter(sensor=OuterRef("pk"))
    in_period = periods.filter(starts_at__lte=moment, ends_at__gt=moment)
    return (
        ~Q(status=SensorStatus.PROPOSED)
        & (Q(installed_at__isnull=True) | Q(installed_at__lte=moment))
        & (Q(removed_at__isnull=True) | Q(removed_at__gt=moment))
        & ~Exists(suspended)
        & (~Exists(periods) | Exists(in_period))
    )


@dataclass(frozen=True)
class Refusal:
    """Why a sensor was not in service at a moment: a stable code and a sentence for its operator."""

    code: str
    detail: str


def _moment(value: datetime) -> str:
    """A moment as people read it: the date alone at midnight UTC, else date and time in UTC."""
    text = value.strftime("%Y-%m-%d")
    if (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0):
        text += value.strftime(" %H:%M:%S").rstrip() + " UTC"
    return text


@dataclass
class ServiceLife:
    """One sensor's service life, loaded: installation, suspensions, removal, active periods."""

    name: str
    status: str
    installed_at: datetime | None
    removed_at: datetime | None
    suspensions: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    periods: list[tuple[datetime, datetime]] = field(default_factory=list)

    @classmethod
    def of(cls, sensor) -> "ServiceLife":
        """The life of a Sensor instance (uses prefetched suspensions and active periods when present)."""
        return cls(
            name=sensor.reference,
            status=sensor.status,
            installed_at=sensor.installed_at,
            removed_at=sensor.removed_at,
            suspensions=sorted((s.starts_at, s.ends_at) for s in sensor.suspensions.all()),
            periods=sorted((p.starts_at, p.ends_at) for p in sensor.active_periods.all()),
        )

    @property
    def label(self) -> str:
        """How a refusal names the sensor (built only for a refusal: `refusal` runs for every record)."""
        return f"Sensor {self.name}"

    def refusal(self, moment: datetime) -> Refusal | None:
        """None when the sensor was in service at `moment`, else why not."""
        if self.status == SensorStatus.PROPOSED:
            return Refusal(
                "sensor_not_confirmed", f"{self.label} is proposed: its controller has not confirmed it yet."
            )
        if self.installed_at is not None and moment < self.installed_at:
            return Refusal(
                "sensor_not_installed",
                f"{self.label} was installed on {_moment(self.installed_at)}, after this record.",
            )
        if self.removed_at is not None and moment >= self.removed_at:
            return Refusal(
                "sensor_removed", f"{self.label} was removed on {_moment(self.removed_at)}, before this record."
            )
        for starts_at, ends_at in self.suspensions:
            if starts_at <= moment and (ends_at is None or moment < ends_at):
                until = f"to {_moment(ends_at)}" if ends_at is not None else "and is still suspended"
                return Refusal("sensor_suspended", f"{self.label} was suspended from {_moment(starts_at)} {until}.")
        if self.periods and not any(starts_at <= moment < ends_at for starts_at, ends_at in self.periods):
            return Refusal(
                "sensor_not_in_period",
                f"{self.label} runs only in its active periods; this record lies in none of them.",
            )
        return None

    def in_service(self, moment: datetime) -> bool:
        return self.refusal(moment) is None

    def outside_q(self, field: str) -> Q:
        """The moments in `field` at which this sensor was not in service (`refusal` as a filter)."""
        if self.status == SensorStatus.PROPOSED:
            return Q()
        outside = Q(pk__in=[])
        if self.installed_at is not None:
            outside |= Q(**{f"{field}__lt": self.installed_at})
        if self.removed_at is not None:
            outside |= Q(**{f"{field}__gte": self.removed_at})
        for starts_at, ends_at in self.suspensions:
            within = Q(**{f"{field}__gte": starts_at})
            outside |= within if ends_at is None else within & Q(**{f"{field}__lt": ends_at})
        if self.periods:
            in_a_period = Q(pk__in=[])
            for starts_at, ends_at in self.periods:
                in_a_period |= Q(**{f"{field}__gte": starts_at, f"{field}__lt": ends_at})
            outside |= ~in_a_period
        return outside


def check_life(
    *, installed_at: datetime | None, removed_at: datetime | None, suspensions: list[tuple[datetime, datetime | None]]
) -> dict[str, str]:
    """Errors (by field) of a whole service life: moments in order, suspensions apart and inside it."""
    errors: dict[str, str] = {}
    if installed_at is not None and removed_at is not None and removed_at <= installed_at:
        errors["removed_at"] = f"Must be after the installation ({_moment(installed_at)})."
    previous_end = installed_at
    ordered = sorted(suspensions, key=lambda s: s[0])
    for index, (starts_at, ends_at) in enumerate(ordered):
        where = f"suspensions/{index}"
        if ends_at is not None and ends_at <= starts_at:
            errors[f"{where}/ends_at"] = "Must be after starts_at."
        elif previous_end is not None and starts_at < previous_end:
            errors[f"{where}/starts_at"] = "Must not lie before the installation or inside the previous suspension."
        elif ends_at is None and index != len(ordered) - 1:
            errors[f"{where}/ends_at"] = "Only the last suspension may be open (still suspended)."
        elif removed_at is not None and (starts_at >= removed_at or ends_at is None or ends_at > removed_at):
            errors[f"{where}/ends_at"] = "A suspension ends at the latest when the sensor is removed."
        previous_end = ends_at
    return errors


def status_of(*, confirmed: bool, removed_at, suspensions) -> str:
    """The status a service life implies today: proposed until confirmed, then removed, suspended or active."""
    if not confirmed:
        return SensorStatus.PROPOSED
    if removed_at is not None:
        return SensorStatus.REMOVED
    if any(ends_at is None for _, ends_at in suspensions):
        return SensorStatus.SUSPENDED
    return SensorStatus.ACTIVE
