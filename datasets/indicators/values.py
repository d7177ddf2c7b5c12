"""Indicator values: cells built from the 15-minute rollups (ADR 0009), read for a guard decision.

Every indicator is computed the same way:
1. the rollup rows of the areas or sensors asked for are read once, over the range plus the history the
   indicator needs (occupancy: back to the day's reset; busyness and forecast: the previous weeks);
2. for each cell (15 minutes, or an hour or a day on the clock of the requested time zone) the rows of its
   quarters are summed into base quantities: persons in, out and in total, the occupancy, the distance bands;
3. cells built from fewer than k persons are suppressed; under an open grant with noise every released
   base quantity gets Laplace noise (datasets.indicators.privacy);
4. the indicator's formula (datasets.indicators.formulas) turns the base quantities into a value, a level and
   details, with the generic parameters of its definition and the local settings of the area.
"""

import bisect
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo

from django.db.models import DateTimeField, Q, Value

from datasets.indicators import formulas, privacy
from datasets.indicators.definitions import Indicator
from datasets.models import AreaRollup, Dataset, Record, RecordRollup, SchemaVersion
from datasets.selectors import _read, bucket_start, reads_as_a_named_party
from purposes.decisions import AccessDecision
from sensors.models import Area, AreaType, Placement, Visibility

BUCKET_MINUTES = {"15m": 15, "1h": 60, "1d": 24 * 60}
# The longest range a bucket may cover: a cell count a client can use, and a read the platform can bound.
MAX_RANGE_DAYS = {"15m": 31, "1h": 366, "1d": 3660}
QUARTER = timedelta(minutes=15)
COUNT_COLUMNS = ("count_in", "count_out", "count")
DISTANCE_BANDS = ("count_within_1_5m", "count_1_5m_to_3m", "count_beyond_3m")
MOVING_AREA_TYPES = frozenset({AreaType.WALKWAY, AreaType.STAIRS})


class NotApplicable(Exception):
    """The indicator cannot be computed for this request: `pointer` names the parameter to change."""

    def __init__(self, detail: str, pointer: str):
        self.detail, self.pointer = detail, pointer
        super().__init__(detail)


# What a schema offers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """What a dataset's schema can give the indicators."""

    counts: bool  # additive counts of persons in typed columns
    in_out: bool  # separate in and out counts (occupancy from the balance)
    occupancy_gauge: bool  # an area-occupancy gauge of persons
    density_gauge: bool  # a density gauge in persons/m²
    distance_bands: bool
    sound_level: bool


def offer(version: SchemaVersion) -> Offer:
    columns, gauges, bands, sound = set(), {}, set(), False
    for measure in version.measures:
        kind, unit, column = measure.get("aggregation"), measure.get("unit"), measure.get("column")
        if kind == "additive_count" and unit == "persons":
            if column in COUNT_COLUMNS:
                columns.add(column)
            if measure["name"] in DISTANCE_BANDS:
                bands.add(measure["name"])
        elif kind == "gauge" and column == "gauge":
            gauges[measure["name"]] = unit
        elif kind == "sound_level":
            sound = True
    for column, sources in (version.derived_columns or {}).items():
        if column in COUNT_COLUMNS and sources:
            columns.add(column)
    return Offer(
        counts=bool(columns),
        in_out={"count_in", "count_out"} <= columns,
        occupancy_gauge=gauges.get("occupancy") == "persons",
        density_gauge=gauges.get("density_ppm2") == "persons/m2",
        distance_bands=set(DISTANCE_BANDS) <= bands,
        sound_level=sound,
    )


# Which base each indicator needs, and the scopes it gives.
NEEDS = {
    "count": lambda o, area: o.counts,
    "occupancy": lambda o, area: o.occupancy_gauge or (area and o.in_out),
    "density": lambda o, area: area and (o.occupancy_gauge or o.density_gauge or o.in_out),
    "level-of-service": lambda o, area: area and (o.occupancy_gauge or o.density_gauge or o.counts),
    "flow": lambda o, area: area and o.counts,
    "crowding-level": lambda o, area: area and (o.occupancy_gauge or o.density_gauge or o.in_out),
    "busyness": lambda o, area: o.counts,
    "forecast": lambda o, area: o.counts,
    "distancing": lambda o, area: o.distance_bands,
    "sound-level": lambda o, area: o.sound_level,
}


def check_applicable(indicator: Indicator, version: SchemaVersion, scope: str) -> Offer:
    """The schema's offer, or NotApplicable saying why the indicator cannot be computed from it."""
    found = offer(version)
    if scope not in indicator.scopes:
        raise NotApplicable(
            f"{indicator.code} is given per {' or '.join(indicator.scopes)}, not per {scope}.", "/sensor"
        )
    if not NEEDS[indicator.code](found, scope == "area"):
        inputs = "; ".join(f"{', '.join(i.schemas)} ({', '.join(i.measures)})" for i in indicator.inputs)
        raise NotApplicable(
            f"{indicator.code} cannot be computed from schema {version.schema.code} {version.version}"
            f"{' per ' + scope if scope == 'sensor' else ''}: it needs {inputs}.",
            "/dataset",
        )
    return found


# Cells on a clock ----------------------------------------------------------------------------------


def next_edge(moment: datetime, bucket: str, zone: tzinfo) -> datetime:
    """The start of the cell after the one that starts at `moment` (UTC)."""
    minutes = BUCKET_MINUTES[bucket]
    if minutes == 15:
        return moment + QUARTER
    if minutes == 60:
        candidate = moment + timedelta(hours=1)
        edge = bucket_start(candidate, 60, zone)
        # A clock change of half an hour (Lord Howe) makes an hour of 30 or 90 minutes: never a step back.
        return edge if edge > moment else candidate
    local = moment.astimezone(zone)
    noon = datetime.combine(local.date() + timedelta(days=1), time(12), tzinfo=zone)
    return bucket_start(noon, minutes, zone)


def cell_edges(start: datetime, end: datetime, bucket: str, zone: tzinfo) -> list[datetime]:
    edges = [start]
    while edges[-1] < end:
        edges.append(next_edge(edges[-1], bucket, zone))
    return edges


def weeks_before(moment: datetime, weeks: int, bucket: str, zone: tzinfo) -> datetime:
    """The cell start on the same weekday and local time `weeks` weeks earlier (DST-safe: on the local clock)."""
    local = moment.astimezone(zone).replace(tzinfo=None) - timedelta(days=7 * weeks)
    if BUCKET_MINUTES[bucket] == 24 * 60:
        local = local.replace(hour=12, minute=0)
    return bucket_start(local.replace(tzinfo=zone), BUCKET_MINUTES[bucket], zone)


def default_range(dataset: Dataset, bucket: str, zone: tzinfo, *, ahead_hours: int | None, now: datetime):
    """The last 24 hours of the dataset's data (7 days for daily cells); for a forecast, the hours ahead of now."""
    minutes = BUCKET_MINUTES[bucket]
    if ahead_hours is not None:
        start = bucket_start(now, minutes, zone)
        return start, bucket_start(now + timedelta(hours=ahead_hours), minutes, zone)
    last = dataset.coverage_to or now
    end = bucket_start(last, minutes, zone)
    if end < last:
        end = next_edge(end, bucket, zone)
    span = timedelta(days=7) if minutes == 24 * 60 else timedelta(hours=24)
    return bucket_start(end - span, minutes, zone), end


# Rows of the rollups -------------------------------------------------------------------------------

ROW_FIELDS = (
    "bucket",
    "records",
    "covered_seconds",
    "count_in",
    "count_out",
    "count",
    "gauge_sum",
    "gauge_n",
    "gauge_min",
    "gauge_max",
    "energy_sum",
    "data_sums",
)


@dataclass
class Series:
    """One area's or sensor's quarters in time order: `buckets` and their `rows` (tuples of ROW_FIELDS + sensors)."""

    buckets: list[datetime] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)

    def between(self, start: datetime, end: datetime) -> list[tuple]:
        return self.rows[bisect.bisect_left(self.buckets, start) : bisect.bisect_left(self.buckets, end)]


def read_series(
    *, decision: AccessDecision, dataset: Dataset, scope: str, ids: list[int], start: datetime, end: datetime
) -> dict[int, Series]:
    """The quarters of these areas or sensors in [start, end), from their rollup, one query."""
    if scope == "area":
        rows = _read(AreaRollup, decision, dataset).filter(area_id__in=ids)
        columns = ("area_id", *ROW_FIELDS, "sensors")
    else:
        rows = _read(RecordRollup, decision, dataset).filter(sensor_id__in=ids)
        columns = ("sensor_id", *ROW_FIELDS)
    rows = rows.filter(bucket__gte=start, bucket__lt=end).order_by(columns[0], "bucket").values_list(*columns)
    found = {key: Series() for key in ids}
    for row in rows:
        series = found[row[0]]
        series.buckets.append(row[1])
        series.rows.append(row[1:] if scope == "area" else (*row[1:], 1))
    return found


# Entities ------------------------------------------------------------------------------------------


def dataset_areas(dataset: Dataset, *, with_geometry: bool = False) -> dict[int, Area]:
    """The areas the dataset's values may be given for: its own, and those its sensors were placed in. Their
    polygons only when asked (GeoJSON): the cells need the areas' surface, width, type and thresholds."""
    placed = Placement.objects.filter(sensor__datasets=dataset).values("area_id")
    areas = Area.objects.filter(Q(pk__in=placed) | Q(pk__in=dataset.areas.values("pk")))
    if not with_geometry:
        areas = areas.defer("geometry")
    return {area.pk: area for area in areas.order_by("pk")}


def dataset_sensors(decision: AccessDecision, dataset: Dataset) -> dict[int, object]:
    """The sensors the reader may see values of: all for the owner or a named grantee; otherwise not the restricted
    ones (they count in their areas only)."""
    sensors = dataset.sensors.all()
    if not reads_as_a_named_party(decision, dataset):
        sensors = sensors.exclude(visibility=Visibility.RESTRICTED)
    return {sensor.pk: sensor for sensor in sensors.order_by("pk")}


# Cells ---------------------------------------------------------------------------------------------


@dataclass
class Base:
    """What a cell's quarters add up to."""

    records: int = 0
    sensors: int = 0
    covered: int | None = None
    count_in: int | None = None
    count_out: int | None = None
    count: int | None = None
    gauge_sum: float | None = None
    gauge_n: int = 0
    gauge_max: float | None = None
    energy: float | None = None
    bands: dict = field(default_factory=dict)

    @property
    def total(self) -> int | None:
        if self.count is not None:
            return self.count
        if self.count_in is None and self.count_out is None:
            return None
        return (self.count_in or 0) + (self.count_out or 0)


def _add(a, b):
    return b if a is None else (a if b is None else a + b)


def add_up(rows: list[tuple]) -> Base:
    base = Base()
    for _bucket, records, covered, cin, cout, count, gsum, gn, _gmin, gmax, energy, sums, sensors in rows:
        base.records += records
        base.sensors = max(base.sensors, sensors)
        base.covered = _add(base.covered, covered)
        base.count_in = _add(base.count_in, cin)
        base.count_out = _add(base.count_out, cout)
        base.count = _add(base.count, count)
        base.gauge_sum = _add(base.gauge_sum, gsum)
        base.gauge_n += gn or 0
        if gmax is not None and (base.gauge_max is None or gmax > base.gauge_max):
            base.gauge_max = gmax
        base.energy = _add(base.energy, energy)
        for name in DISTANCE_BANDS:
            if sums and sums.get(name) is not None:
                base.bands[name] = base.bands.get(name, 0) + sums[name]
    return base


def completeness(
    base: Base, start: datetime, end: datetime, timing: tuple, presence: tuple | None, seen_sensors: int
) -> float | None:
    """The share of the cell the data covers (docs/schemas.md): covered seconds over the seconds the cell's sensors
    were there to count (placed in the area and in service: `presence`, their intervals), or records over those
    expected for instants with a period. Without presence, every sensor seen in the range counts for the whole
    cell."""
    if not base.records:
        return 0.0
    seconds = (end - start).total_seconds()
    expected = None
    if presence is not None:
        always, changing = presence
        expected = seconds * always + sum(_overlap(since, until, start, end) for since, until in changing)
    if not expected:  # no placement known, or data where none was in force: every sensor seen counts
        expected = seconds * max(base.sensors, seen_sensors, 1)
    interval, period = timing
    if interval and base.covered is not None:
        return round(min(base.covered / expected, 1.0), 4)
    if period:
        return round(min(base.records / (expected / period), 1.0), 4)
    return None


def _overlap(since: datetime | None, until: datetime | None, start: datetime, end: datetime) -> float:
    low = start if since is None else max(since, start)
    high = end if until is None else min(until, end)
    return max((high - low).total_seconds(), 0.0)


def _split_presence(intervals: list | None, start: datetime, end: datetime) -> tuple[int, list] | None:
    """(how many sensors are there all of [start, end), the intervals that start or end inside it): the first
    counted once per cell, the second overlapped cell by cell. None without any known interval."""
    if not intervals:
        return None
    always = sum(
        1 for since, until in intervals if (since is None or since <= start) and (until is None or until >= end)
    )
    changing = [
        (since, until)
        for since, until in intervals
        if not ((since is None or since <= start) and (until is None or until >= end))
        and _overlap(since, until, start, end) > 0
    ]
    return always, changing


def presence(scope: str, ids: list[int], dataset: Dataset) -> dict[int, list[tuple]]:
    """When each area's sensors (placed there, and in service) or each sensor (in service) could count:
    {id: [(since, until)]}, None for an open end."""
    found: dict[int, list[tuple]] = {key: [] for key in ids}
    if scope == "area":
        rows = Placement.objects.filter(area_id__in=ids, sensor__datasets=dataset).values_list(
            "area_id", "starts_at", "ends_at", "sensor__installed_at", "sensor__removed_at"
        )
    else:
        rows = (
            dataset.sensors.filter(pk__in=ids)
            .annotate(none=Value(None, output_field=DateTimeField()))
            .values_list("pk", "none", "none", "installed_at", "removed_at")
        )
    for key, starts, ends, installed, removed in rows:
        since = max((m for m in (starts, installed) if m is not None), default=None)
        until = min((m for m in (ends, removed) if m is not None), default=None)
        if since is None or until is None or since < until:
            found[key].append((since, until))
    return found


@dataclass
class Values:
    """What the endpoint returns: the cells and what the privacy rules did to them."""

    rows: list[dict]
    parameters: dict
    suppressed: int = 0
    noise: dict | None = None
    error: list[dict] | None = None


@dataclass
class Request:
    indicator: Indicator
    dataset: Dataset
    scope: str  # area | sensor
    ids: list[int]
    start: datetime
    end: datetime
    bucket: str
    zone: tzinfo
    now: datetime
    edges: list[datetime] = field(default_factory=list)  # the cells' starts and the last one's end (cell_edges)
    areas: dict = field(default_factory=dict)  # {id: Area}
    presence: dict = field(default_factory=dict)  # {id: [(since, until)]}: when its sensors could count
    events: dict = field(default_factory=dict)  # forecast: {area_id: [(start, end, expected visitors)]}


def _parameters(indicator: Indicator) -> dict:
    """The generic defaults (a local parameter's default applies where the area sets none)."""
    return {name: default for name, default in indicator.defaults().items() if default is not None}


def _local(area: Area | None) -> dict:
    """The local settings an area gives (None for a sensor)."""
    if area is None:
        return {}
    surface = area.surface_m2_override or area.surface_m2_computed or None
    table = formulas.fruin_table(area.area_type)
    return {
        "surface_m2": surface,
        "effective_width_m": area.effective_width_m,
        "area_type": table,
        "moving": area.area_type in MOVING_AREA_TYPES,
        "busyness": (area.thresholds or {}).get("busyness") or {},
    }


def indicator_values(*, decision: AccessDecision, request: Request) -> Values:
    indicator, dataset = request.indicator, request.dataset
    found = check_applicable(indicator, dataset.schema_version, request.scope)
    parameters = _parameters(indicator)
    history = _history(indicator.code, parameters)
    read_start = request.start - history
    if indicator.code == "occupancy" or (indicator.code != "count" and found.in_out and not found.occupancy_gauge):
        read_start -= timedelta(days=1, hours=1)  # back to the reset before the range
    read_end, with_error = request.end, False
    if indicator.code == "forecast":
        # The profile needs the weeks before the range; the error, the weeks before now: one read when the range
        # reaches those, else the range's alone (a forecast of a past month reads that month, not every week
        # since) and no error.
        recent = request.now - history
        with_error = request.end >= recent
        if with_error:
            read_start, read_end = min(read_start, recent), max(request.end, request.now + QUARTER)
    elif read_start < request.start:  # occupancy: on to the next reset, whose residual tells the day's drift
        read_end = min(request.end + timedelta(days=1, hours=1), max(request.now, request.end))
    series = read_series(
        decision=decision, dataset=dataset, scope=request.scope, ids=request.ids, start=read_start, end=read_end
    )
    request.presence = presence(request.scope, request.ids, dataset)
    k = decision.conditions.k
    plan = privacy.noise_plan(decision, dataset)
    builder = CellBuilder(request=request, offer=found, parameters=parameters, k=k, plan=plan)
    rows, errors = [], []
    edges = request.edges
    for key in request.ids:
        area = request.areas.get(key) if request.scope == "area" else None
        rows.extend(builder.entity_cells(key, area, series[key], edges))
        if indicator.code == "forecast":
            if plan is None and with_error:  # the error compares exact counts: not given under noise
                errors.append({request.scope: key, **builder.forecast_error(series[key])})
    noise = None
    if plan is not None:
        noise = privacy.spend(plan, counts=builder.noised, purpose_code=decision.purpose_code)
    used = dict(parameters)
    return Values(
        rows=rows,
        parameters=used,
        suppressed=builder.suppressed,
        noise=noise,
        error=errors if indicator.code == "forecast" else None,
    )


def _history(code: str, parameters: dict) -> timedelta:
    if code in ("busyness", "forecast"):
        weeks = parameters["weeks"] * (2 if code == "forecast" else 1)  # the forecast's error needs its own profile
        return timedelta(days=7 * weeks + 1)
    return timedelta(0)


class CellBuilder:
    """Turns an entity's quarters into the cells of one indicator (see the module's docstring)."""

    def __init__(self, *, request: Request, offer: Offer, parameters: dict, k: int, plan):
        self.request, self.offer, self.parameters, self.k, self.plan = request, offer, parameters, k, plan
        self.code = request.indicator.code
        version = request.dataset.schema_version
        period = version.period.total_seconds() if version.period and version.subject == "sensor" else None
        self.timing = (version.time_semantics == version.TimeSemantics.INTERVAL, period)
        self.suppressed = 0
        self.noised = 0

    # Base quantities -------------------------------------------------------------------------------

    def occupancy_track(self, series: Series, start: datetime, end: datetime) -> dict[datetime, tuple]:
        """Occupancy at the end of each quarter in [start, end) from in - out, reset at the local reset hour,
        never below zero: {quarter: (occupancy, residual of its reset day or None, persons in that day)}."""
        zone, reset_hour = self.request.zone, self.parameters.get("reset_hour", 4)
        local = start.astimezone(zone)
        reset = datetime.combine(local.date(), time(reset_hour), tzinfo=zone)
        if reset.astimezone(UTC) > start:
            reset = datetime.combine(local.date() - timedelta(days=1), time(reset_hour), tzinfo=zone)
        moment = reset.astimezone(UTC).replace(minute=reset.astimezone(UTC).minute // 15 * 15)
        rows = dict(zip(series.buckets, series.rows, strict=True))
        track, day, occupancy, persons, next_reset = {}, [], 0, 0, self._next_reset(moment)
        days = []
        while moment < end:
            if moment >= next_reset:
                days.append((day, occupancy, persons))
                day, occupancy, persons, next_reset = [], 0, 0, self._next_reset(moment)
            row = rows.get(moment)
            cin, cout = (row[3] or 0, row[4] or 0) if row else (0, 0)
            occupancy = max(0, occupancy + cin - cout)
            persons += cin
            day.append(moment)
            track[moment] = [occupancy, None, 0]
            moment += QUARTER
        # The residual is known only for a day whose reset has passed (and has passed by `now`).
        for quarters, residual, day_persons in days:
            for quarter in quarters:
                track[quarter][1], track[quarter][2] = residual, day_persons
        return track

    def _next_reset(self, moment: datetime) -> datetime:
        zone, hour = self.request.zone, self.parameters.get("reset_hour", 4)
        local = (moment + QUARTER).astimezone(zone)
        candidate = datetime.combine(local.date(), time(hour), tzinfo=zone).astimezone(UTC)
        if candidate <= moment:
            candidate = datetime.combine(local.date() + timedelta(days=1), time(hour), tzinfo=zone).astimezone(UTC)
        return candidate

    # Cells -----------------------------------------------------------------------------------------

    def entity_cells(self, key: int, area: Area | None, series: Series, edges: list[datetime]) -> list[dict]:
        request, local = self.request, _local(area)
        seen_sensors = max((row[-1] for row in series.rows), default=1)
        there = _split_presence(request.presence.get(key), edges[0], edges[-1])
        track = None
        if self._needs_occupancy_from_counts():
            until = min(edges[-1] + timedelta(days=1, hours=1), max(request.now, edges[-1]))
            track = self.occupancy_track(series, edges[0] - timedelta(days=1, hours=1), until)
        cells, rows, buckets = [], series.rows, series.buckets
        first = bisect.bisect_left(buckets, edges[0])
        for start, end in zip(edges, edges[1:], strict=False):
            last = first
            while last < len(buckets) and buckets[last] < end:  # cells and quarters both in time order: one walk
                last += 1
            base = add_up(rows[first:last])
            first = last
            seconds = int((end - start).total_seconds())
            cell = {
                "start": start.astimezone(request.zone),
                "end": end.astimezone(request.zone),
                request.scope: key,
                "value": None,
                "level": None,
                "observations": base.records,
                "contributions": None,
                "completeness": completeness(base, start, end, self.timing, there, seen_sensors),
                "flags": [],
                "details": {},
            }
            if self.code == "forecast":
                self._forecast(cell, series, start, end, area)
            elif not base.records and self.code not in ("occupancy",):
                cell["flags"].append("no_data")
            else:
                quantities = self._quantities(base, track, start, end)
                if quantities is None:
                    cell["flags"].append("no_data")
                else:
                    self._finish(cell, quantities, local, series, start, end, seconds)
            if cell["completeness"] is not None and cell["completeness"] < 1 and "no_data" not in cell["flags"]:
                if self.code != "forecast":
                    cell["flags"].append("incomplete")
            cells.append(cell)
        return cells

    def _needs_occupancy_from_counts(self) -> bool:
        if self.request.scope != "area" or not self.offer.in_out or self.offer.occupancy_gauge:
            return False
        if self.code in ("occupancy", "density", "crowding-level"):
            return not self.offer.density_gauge
        return self.code == "level-of-service"

    def _quantities(self, base: Base, track, start: datetime, end: datetime) -> dict | None:
        """The cell's base quantities of persons (before privacy), or None when it has none."""
        q = {}
        if self.offer.counts:
            q.update(count_in=base.count_in, count_out=base.count_out, total=base.total)
        if self.offer.distance_bands:
            q.update(base.bands)
        if self.offer.sound_level and base.energy is not None and base.gauge_n:
            q["laeq"] = formulas.laeq_from_energy(base.energy, base.gauge_n)
        if self.offer.occupancy_gauge and base.gauge_max is not None:
            q["occupancy"] = round(base.gauge_max)
            q["occupancy_end"] = round(base.gauge_sum / base.gauge_n) if base.gauge_n and base.gauge_sum else None
        elif self.offer.density_gauge and base.gauge_max is not None:
            q["density"] = base.gauge_max
        elif track is not None:
            quarters = [track[m] for m in _quarters(start, end) if m in track]
            if quarters:
                q["occupancy"] = max(value for value, _, _ in quarters)
                q["occupancy_end"] = quarters[-1][0]
                residuals = [(residual, persons) for _, residual, persons in quarters if residual is not None]
                q["drift"] = any(
                    formulas.drift(
                        residual,
                        persons,
                        drift_persons=self.parameters.get("drift_persons", 20),
                        drift_share=self.parameters.get("drift_share", 0.05),
                    )
                    for residual, persons in residuals
                )
        return q if any(value is not None for value in q.values()) else None

    # The numbers of persons each indicator shows (as its value or in its details): all of them are held against k,
    # since in + out = total and the bands add up to the count (one alone could be undone by subtraction).
    RELEASED = {
        "count": ("total", "count_in", "count_out"),
        "occupancy": ("occupancy", "occupancy_end"),
        "density": ("occupancy",),
        "level-of-service": ("occupancy", "total"),
        "flow": ("total",),
        "crowding-level": ("occupancy",),
        "busyness": ("total",),
        "distancing": DISTANCE_BANDS,
    }

    def _below_k(self, q: dict) -> bool:
        return any(privacy.persons_suppressed(q.get(name), self.k) for name in self.RELEASED.get(self.code, ()))

    def _contributions(self, q: dict) -> int | None:
        """How many persons the cell is built from (what k is compared with)."""
        if self.code in ("count", "flow", "busyness") or (self.code == "level-of-service" and "occupancy" not in q):
            return q.get("total")
        if self.code == "distancing":
            return sum(q.get(name) or 0 for name in DISTANCE_BANDS)
        if "occupancy" in q:
            return q["occupancy"]
        return None

    def _noise(self, q: dict, subject: int, start: datetime, end: datetime) -> dict:
        """Laplace noise on each released number of persons (privacy.noisy), counted for the budget. The same
        number (scope, subject, cell, measure) gets the same noise whichever indicator releases it."""
        noised, scope = dict(q), self.request.scope

        def noise(name: str, value) -> int:
            self.noised += 1
            key = privacy.cell_key(scope=scope, subject=subject, start=start, end=end, measure=name)
            return max(0, privacy.noisy(self.plan, key, value))

        for name in ("count_in", "count_out", "occupancy", "occupancy_end", "forecast", *DISTANCE_BANDS):
            if noised.get(name) is not None:
                noised[name] = noise(name, noised[name])
        if q.get("total") is not None:
            if q.get("count_in") is not None or q.get("count_out") is not None:
                noised["total"] = (noised.get("count_in") or 0) + (noised.get("count_out") or 0)
            else:
                noised["total"] = noise("total", q["total"])
        return noised

    def _finish(self, cell, q, local, series, start, end, seconds) -> None:
        contributions = self._contributions(q)
        if self.request.indicator.privacy == "persons" and (
            privacy.persons_suppressed(contributions, self.k) or self._below_k(q)
        ):
            cell["flags"].append("suppressed")
            self.suppressed += 1
            return
        if self.plan is not None and self.request.indicator.privacy == "persons":
            q = self._noise(q, cell[self.request.scope], start, end)
            contributions = self._contributions(q)
            cell["flags"].append("noisy")
        cell["contributions"] = contributions if self.request.indicator.privacy == "persons" else None
        if q.get("drift"):
            cell["flags"].append("drift")
        getattr(self, "_" + self.code.replace("-", "_"))(cell, q, local, series, start, end, seconds)

    # The indicators --------------------------------------------------------------------------------

    def _count(self, cell, q, local, series, start, end, seconds):
        cell["value"] = q.get("total")
        cell["details"] = {"in": q.get("count_in"), "out": q.get("count_out")}

    def _occupancy(self, cell, q, local, series, start, end, seconds):
        cell["value"] = q.get("occupancy")
        cell["details"] = {"end": q.get("occupancy_end")}

    def _density_of(self, q, local) -> tuple[float | None, float | None]:
        if "density" in q:
            return q["density"], local.get("surface_m2")
        surface = local.get("surface_m2")
        if q.get("occupancy") is None or not surface:
            return None, surface
        return q["occupancy"] / surface, surface

    def _density(self, cell, q, local, series, start, end, seconds):
        density, surface = self._density_of(q, local)
        if density is None:
            cell["flags"].append("no_surface")
            return
        cell["value"] = round(density, 4)
        cell["details"] = {"occupancy": q.get("occupancy"), "surface_m2": surface}

    def _level_of_service(self, cell, q, local, series, start, end, seconds):
        table = local.get("area_type", "walkway")
        density, surface = self._density_of(q, local)
        if density is not None:
            space = None if density == 0 else 1 / density
            cell["level"] = formulas.fruin_level_from_space(space, table)
            cell["value"] = None if space is None else round(space, 3)
            cell["details"] = {"table": table, "basis": "space", "unit": "m2/person"}
            return
        width = local.get("effective_width_m")
        if q.get("total") is None or not width:
            cell["flags"].append("no_width")
            return
        rate = formulas.flow_rate(q["total"], seconds / 60, width)
        cell["level"] = formulas.fruin_level_from_flow(rate)
        cell["value"] = round(rate, 3)
        cell["details"] = {"table": "walkway-flow", "basis": "flow", "unit": "p/min/m"}

    def _flow(self, cell, q, local, series, start, end, seconds):
        width = local.get("effective_width_m")
        if not width:
            cell["flags"].append("no_width")
            return
        rate = formulas.flow_rate(q["total"], seconds / 60, width)
        p = self.parameters
        limit = p["limit_stairs"] if local.get("area_type") == "stairs" else p["limit_level"]
        weidmann = {"v_free": p["v_free"], "gamma": p["gamma"], "rho_max": p["rho_max"]}
        rho = formulas.weidmann_density_for_flow(rate / 60, **weidmann)
        cell["value"] = round(rate, 3)
        cell["details"] = {
            "limit": limit,
            "ratio": round(rate / limit, 4),
            "expected_speed_ms": None if rho is None else round(formulas.weidmann_speed(rho, **weidmann), 3),
        }
        if rate > limit:
            cell["flags"].append("over_limit")

    def _crowding_level(self, cell, q, local, series, start, end, seconds):
        density, _ = self._density_of(q, local)
        if density is None:
            cell["flags"].append("no_surface")
            return
        cell["value"] = round(density, 4)
        cell["level"] = formulas.crowding_level(density)
        if formulas.crowding_unstable(density, local.get("moving", False), self.parameters["unstable_moving"]):
            cell["flags"].append("unstable")

    def _baseline(self, series: Series, start: datetime, weeks: range, subject: int | None) -> float | None:
        """The median count of the same cell in earlier weeks. A week whose own cell is withheld (1 to k - 1
        persons) stays out: the median, or the ratio over it, would show it. Under noise each week's count is
        the noised one its own cell releases (same key, so the same noise), charged like it; `subject` None:
        exact, for the forecast's error, which is not given under noise."""
        request, totals = self.request, []
        for week in weeks:
            then = weeks_before(start, week, request.bucket, request.zone)
            until = next_edge(then, request.bucket, request.zone)
            base = add_up(series.between(then, until))
            if not base.records or base.total is None or privacy.persons_suppressed(base.total, self.k):
                continue
            total = base.total
            if self.plan is not None and subject is not None:
                week_counts = {"count_in": base.count_in, "count_out": base.count_out, "total": base.total}
                total = self._noise(week_counts, subject, then, until)["total"]
            totals.append(total)
        return formulas.median(totals) if totals else None

    def _busyness(self, cell, q, local, series, start, end, seconds):
        baseline = self._baseline(series, start, range(1, self.parameters["weeks"] + 1), cell[self.request.scope])
        count = q.get("total")
        cell["details"] = {"count": count, "baseline": baseline}
        if baseline is None:
            cell["flags"].append("no_baseline")
            return
        ratio = formulas.busyness_ratio(count, baseline)
        generic = {name: self.parameters[name] for name in ("quieter", "busier", "much_busier")}
        own = local.get("busyness")
        levels = {**generic, **own} if isinstance(own, dict) and set(own) == set(generic) else generic
        cell["value"] = None if ratio is None else round(ratio, 4)
        try:
            cell["level"] = formulas.busyness_level(ratio, **levels)
        except (TypeError, ValueError):  # the area's levels do not rise (stored before the API checked them)
            cell["level"] = formulas.busyness_level(ratio, **generic)

    # Forecast --------------------------------------------------------------------------------------

    def _profile(self, series: Series, start: datetime, end: datetime, subject: int) -> float | None:
        """The median of the same cell on the same weekday over the last `weeks` weeks that ended before now."""
        first = max(1, math.ceil((end - self.request.now).total_seconds() / (7 * 86400)))
        return self._baseline(series, start, range(first, first + self.parameters["weeks"]), subject)

    def _forecast(self, cell, series, start, end, area) -> None:
        profile = self._profile(series, start, end, cell[self.request.scope])
        events = self._event_visitors(area, start, end)
        if profile is None:
            cell["flags"].append("no_baseline")
            return
        expected = formulas.forecast_value(profile, events, self.parameters["event_share"])
        q = {"forecast": round(expected)}
        if privacy.persons_suppressed(q["forecast"], self.k):
            cell["flags"].append("suppressed")
            self.suppressed += 1
            return
        if self.plan is not None:
            q = self._noise(q, cell[self.request.scope], start, end)
            cell["flags"].append("noisy")
        cell["value"] = q["forecast"]
        cell["contributions"] = q["forecast"]
        cell["details"] = {"profile": profile, "events": events}

    def forecast_error(self, series: Series) -> dict:
        """MAE and MAPE of the profile forecast on the cells of the last `weeks` weeks before now."""
        request, weeks = self.request, self.parameters["weeks"]
        end = bucket_start(request.now, BUCKET_MINUTES[request.bucket], request.zone)
        start = weeks_before(end, weeks, request.bucket, request.zone)
        pairs = []
        moment = start
        while moment < end:
            until = next_edge(moment, request.bucket, request.zone)
            actual = add_up(series.between(moment, until))
            if actual.records and actual.total is not None:
                predicted = self._baseline(series, moment, range(1, weeks + 1), None)
                if predicted is not None:
                    pairs.append((actual.total, predicted))
            moment = until
        return {
            "mae": None if not pairs else round(formulas.mae(pairs), 3),
            "mape": None if not pairs else formulas.mape(pairs),
            "weeks": weeks,
            "buckets": len(pairs),
        }

    def _event_visitors(self, area, start: datetime, end: datetime) -> float:
        """Expected visitors of the calendar's events in this area, spread evenly over each event's hours."""
        events = self.request.events
        if not events or area is None:
            return 0.0
        return sum(
            formulas.event_visitors_in_bucket(visitors, begin, finish, start, end)
            for begin, finish, visitors in events.get(area.pk, ())
        )

    def _distancing(self, cell, q, local, series, start, end, seconds):
        shares = formulas.distancing_shares(*(q.get(name) or 0 for name in DISTANCE_BANDS))
        if shares is None:
            cell["value"] = None
            cell["details"] = {"high_risk": None, "low_risk": None, "safe": None}
            return
        cell["value"] = shares["high_risk"]
        cell["details"] = shares

    def _sound_level(self, cell, q, local, series, start, end, seconds):
        cell["value"] = None if q.get("laeq") is None else round(q["laeq"], 2)


def _quarters(start: datetime, end: datetime):
    moment = start
    while moment < end:
        yield moment
        moment += QUARTER


def calendar_events(*, decision: AccessDecision, dataset: Dataset, start: datetime, end: datetime) -> dict:
    """The event calendar's events overlapping [start, end), per area: {area_id: [(start, end, visitors)]}."""
    records = (
        _read(Record, decision, dataset)
        .filter(observed_from__lt=end)
        .filter(observed_to__gt=start)
        .values_list("observed_from", "observed_to", "gauge", "data")
    )
    found: dict[int, list] = {}
    for begin, finish, visitors, data in records.order_by("observed_from")[:10_000]:
        area = (data or {}).get("area_id")
        if isinstance(area, int) and finish is not None and visitors is not None:
            found.setdefault(area, []).append((begin, finish, float(visitors)))
    return found
