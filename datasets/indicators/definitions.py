"""The crowd indicators' definitions as data: what each computes, from which data, with which parameters and sources.

Generic only: nothing here is about a particular area. A parameter marked `local` is read from the area
(its surface, its width, its type, its own thresholds); the API serves these definitions as they are and
`manage.py indicators_doc` writes docs/indicators.md from them.
"""

from __future__ import annotations

from dataclasses import dataclass

from datasets.indicators.formulas import CROWDING_LEVELS, FRUIN_AREA, FRUIN_FLOW_WALKWAY

VERSION = "1.0.0"

FRUIN = (
    "Fruin, J. J. (1971). Pedestrian Planning and Design. New York: Metropolitan Association of Urban Designers "
    "and Environmental Planners. Revised edition (1987), Mobile, AL: Elevator World."
)
GREEN_GUIDE = (
    "Sports Grounds Safety Authority (2018). Guide to Safety at Sports Grounds (the Green Guide), 6th edition. "
    "London: SGSA."
)
WEIDMANN = (
    "Weidmann, U. (1993). Transporttechnik der Fussgänger: Transporttechnische Eigenschaften des "
    "Fussgängerverkehrs (Literaturauswertung). Schriftenreihe des IVT Nr. 90, 2nd edition. Zürich: Institut für "
    "Verkehrsplanung, Transporttechnik, Strassen- und Eisenbahnbau (IVT), ETH Zürich."
)
STILL = "Still, G. K. (2014). Introduction to Crowd Science. Boca Raton, FL: CRC Press."
IEC_61672 = "IEC 61672-1:2013. Electroacoustics — Sound level meters — Part 1: Specifications. Geneva: IEC."
ISO_1996 = (
    "ISO 1996-1:2016. Acoustics — Description, measurement and assessment of environmental noise — Part 1: "
    "Basic quantities and assessment procedures. Geneva: ISO."
)
RIVM = (
    "RIVM (2020). Houd 1,5 meter afstand: the Dutch physical-distancing rule of the COVID-19 measures. "
    "Bilthoven: Rijksinstituut voor Volksgezondheid en Milieu."
)
AMSTERDAM_MONITOR = (
    "Gemeente Amsterdam (2020). 1,5-metermonitor: the published mapping from distance to the nearest other "
    "person to a closeness level (high risk below 1.5 m, low risk below 1.8 m, safe from 1.8 m)."
)
CROWD_FLOW_OBSERVED = (
    "FIWARE Smart Data Models, dataModel.Transportation: CrowdFlowObserved (peopleCount, peopleCountTowards, "
    "peopleCountAway). https://github.com/smart-data-models/dataModel.Transportation"
)
HYNDMAN = (
    "Hyndman, R. J., & Athanasopoulos, G. (2021). Forecasting: Principles and Practice, 3rd edition, "
    "sections 5.2 (the seasonal naïve method) and 5.8 (MAE, MAPE). Melbourne: OTexts. https://otexts.com/fpp3/"
)

# The schemas whose measures count persons passing a line (in the direction of the sensor's deployment).
LINE_COUNTS = ("crowd-count-line",)


@dataclass(frozen=True)
class Parameter:
    """A parameter of an indicator, with its generic default; `local` ones are read from the area."""

    name: str
    default: object
    unit: str
    description: str
    local: bool = False
    minimum: float | None = None
    maximum: float | None = None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "default": self.default,
            "unit": self.unit,
            "description": self.description,
            "local": self.local,
            "minimum": self.minimum,
            "maximum": self.maximum,
        }


@dataclass(frozen=True)
class Input:
    """Data an indicator reads: measures of standard schemas, by their declared aggregation."""

    schemas: tuple[str, ...]
    measures: tuple[str, ...]
    aggregation: str
    note: str = ""

    def as_dict(self) -> dict:
        return {
            "schemas": list(self.schemas),
            "measures": list(self.measures),
            "aggregation": self.aggregation,
            "note": self.note,
        }


@dataclass(frozen=True)
class Indicator:
    """One indicator's generic definition: formula, inputs, parameters, unit, levels, sources, limitations."""

    code: str
    version: str
    title: str
    summary: str
    formula_words: str
    formula_symbols: str
    inputs: tuple[Input, ...]
    parameters: tuple[Parameter, ...]
    unit: str
    levels: tuple[dict, ...] = ()
    sources: tuple[str, ...] = ()
    limitations: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ("area", "sensor")
    privacy: str = "persons"

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict:
        """The generic defaults by parameter name (local parameters without a generic value are None)."""
        return {p.name: p.default for p in self.parameters}

    def as_dict(self) -> dict:
        """What the API serves: JSON-ready, in a stable key order."""
        return {
            "code": self.code,
            "version": self.version,
            "title": self.title,
            "summary": self.summary,
            "formula": {"words": self.formula_words, "symbols": self.formula_symbols},
            "unit": self.unit,
            "scopes": list(self.scopes),
            "privacy": self.privacy,
            "inputs": [i.as_dict() for i in self.inputs],
            "parameters": [p.as_dict() for p in self.parameters],
            "levels": [dict(level) for level in self.levels],
            "sources": list(self.sources),
            "limitations": list(self.limitations),
        }


def _level(table: str, level: str, low: float | None, high: float | None, unit: str, inclusive: str) -> dict:
    """One row of a levels table; `inclusive` says which bound belongs to the level ("min" or "max")."""
    return {"table": table, "level": level, "min": low, "max": high, "unit": unit, "inclusive": inclusive}


def _space_levels() -> tuple[dict, ...]:
    """Fruin's space tables: lower bounds, inclusive (a value at a bound gets the better level)."""
    levels = []
    for table, bounds in FRUIN_AREA.items():
        upper = None
        for level, lower in bounds:
            levels.append(_level(table, level, lower, upper, "m2/person", "min"))
            upper = lower
        levels.append(_level(table, "F", None, upper, "m2/person", "min"))
    return tuple(levels)


def _upper_bound_levels(table: str, bounds: list[tuple[str, float]], last: str, unit: str) -> tuple[dict, ...]:
    """A table of upper bounds, inclusive (a value at a bound gets the better level); above the last: `last`."""
    levels, lower = [], None
    for level, upper in bounds:
        levels.append(_level(table, level, lower, upper, unit, "max"))
        lower = upper
    levels.append(_level(table, last, lower, None, unit, "max"))
    return tuple(levels)


COUNT_INPUTS = (
    Input(LINE_COUNTS, ("count_in", "count_out"), "additive_count",
          "Persons crossing a line; in and out follow each gate's deployed direction into the area."),
    Input(("crowd-flow",), ("people_count_towards", "people_count_away"), "additive_count",
          "Persons passing towards and away from the sensor; mapped to in and out by the deployment's direction."),
    Input(("crowd-flow",), ("people_count",), "additive_count", "The total where the directions are not counted."),
    Input(("hourly-pedestrian-count",), ("count",), "additive_count",
          "Hourly totals without direction (the City of Melbourne's counts): total only."),
)  # fmt: skip
OCCUPANCY_INPUTS = (
    Input(("area-occupancy",), ("occupancy",), "gauge", "Persons in the area, measured directly (used as is)."),
    Input(LINE_COUNTS, ("count_in", "count_out"), "additive_count",
          "Entries and exits at the area's gates, accumulated from the daily reset."),
    Input(("crowd-flow",), ("people_count_towards", "people_count_away"), "additive_count",
          "Entries and exits by the deployment's direction, accumulated from the daily reset."),
)  # fmt: skip
DENSITY_INPUTS = (
    *OCCUPANCY_INPUTS,
    Input(("crowd-density",), ("density_ppm2",), "gauge", "Density measured directly in the sensor's view."),
)
OCCUPANCY_LIMITATIONS = (
    "Occupancy from gate counts drifts: every miscounted entry or exit stays in the running sum until the daily "
    "reset, so the value is only as good as the gates' accuracy; a day whose residual is large is flagged `drift`.",
    "All the area's entrances must be counted; an uncounted entrance makes occupancy meaningless.",
    "Clamping at zero hides exits counted before their entries (and the undercount they reveal).",
)

REQUIRED_CODES = (
    "count",
    "occupancy",
    "density",
    "level-of-service",
    "flow",
    "crowding-level",
    "busyness",
    "forecast",
    "distancing",
    "sound-level",
)

_DEFINITIONS = (
    Indicator(
        code="count",
        version=VERSION,
        title="Count",
        summary="Persons counted in, out and in total per bucket, per sensor or per area.",
        formula_words=(
            "Sum the persons counted in and out over the bucket; per area, sum over the gates deployed in the area "
            "at the time, each with its direction (a gate deployed outward counts its in as the area's out). The "
            "value is in + out, or the counted total where only a total is counted."
        ),
        formula_symbols=(
            "in = Σ cᵢₙ,  out = Σ cₒᵤₜ,  count = in + out  (sums over the area's sensors and the bucket's intervals)"
        ),
        inputs=COUNT_INPUTS,
        parameters=(),
        unit="persons",
        sources=(CROWD_FLOW_OBSERVED,),
        limitations=(
            "A person who crosses twice, or crosses two gates of one area, is counted twice: a count is of "
            "crossings, not of distinct persons.",
            "A bucket where a sensor sent fewer records than its period expects is incomplete (completeness < 1) "
            "and undercounts.",
        ),
    ),
    Indicator(
        code="occupancy",
        version=VERSION,
        title="Occupancy",
        summary="Persons in an area: the measured gauge, or start + cumulative in − out, reset daily, never below 0.",
        formula_words=(
            "Where an area-occupancy dataset measures it, the highest measured occupancy in the bucket. Otherwise, "
            "from the area's gates: start at zero at the local reset hour, add each 15 minutes' entries and subtract "
            "its exits, never going below zero; the value is the highest occupancy at a 15-minute edge in the "
            "bucket. The occupancy left at the next reset is the day's residual; it is flagged `drift` when larger "
            "than both drift_persons and drift_share of the persons who entered that day."
        ),
        formula_symbols=(
            "N(t₀) = 0 at reset_hour;  N(tₖ) = max(0, N(tₖ₋₁) + inₖ − outₖ);  value = max N(tₖ) over the bucket;  "
            "drift ⇔ |N(reset)| > max(drift_persons, drift_share · Σ in)"
        ),
        inputs=OCCUPANCY_INPUTS,
        parameters=(
            Parameter(
                "reset_hour",
                4,
                "hour (local)",
                "Local hour at which the running occupancy restarts at zero.",
                minimum=0,
                maximum=23,
            ),
            Parameter(
                "drift_persons",
                20,
                "persons",
                "Residual at the reset above which the day is flagged, at least.",
                minimum=0,
            ),
            Parameter(
                "drift_share",
                0.05,
                "share",
                "Residual as a share of the day's entries above which the day is flagged.",
                minimum=0,
                maximum=1,
            ),
        ),  # fmt: skip
        unit="persons",
        sources=(FRUIN, STILL),
        limitations=OCCUPANCY_LIMITATIONS,
    ),
    Indicator(
        code="density",
        version=VERSION,
        title="Density",
        summary="Persons per square metre of the area's usable surface.",
        formula_words=(
            "The bucket's peak occupancy divided by the usable surface of the area (its override, or the geodesic "
            "surface of its polygon); where crowd-density sensors placed in the area measure it, the highest density "
            "they measured in the bucket."
        ),
        formula_symbols="ρ = N / A  (persons/m²)",
        inputs=DENSITY_INPUTS,
        parameters=(
            Parameter(
                "surface_m2",
                None,
                "m2",
                "Usable surface of the area: its override, else its computed surface.",
                local=True,
                minimum=0,
            ),
        ),  # fmt: skip
        unit="persons/m2",
        sources=(FRUIN, STILL),
        limitations=(
            *OCCUPANCY_LIMITATIONS,
            "An average over the whole surface: a crowd packed in one corner of a large area shows as a low density.",
        ),
        scopes=("area",),
    ),
    Indicator(
        code="level-of-service",
        version=VERSION,
        title="Level of service (Fruin)",
        summary="Fruin's level of service A-F from the space per person, or from the flow per metre where only "
        "flow is known.",
        formula_words=(
            "The space per person (usable surface / peak occupancy) looked up in Fruin's table for the area's type "
            "(walkway, stairs or queue; squares and venues use the walkway table): the best level whose lower bound "
            "the space reaches. Where the area's occupancy is not known but its gates count flow, the walkway flow "
            "table is used with persons per minute per metre of effective width: the best level whose upper bound "
            "the flow does not pass. A value exactly at a bound gets the better level. An empty area is A."
        ),
        formula_symbols=(
            "M = A / N (m²/person);  LOS = first level L with M ≥ min(L), else F;  "
            "or q = n / (Δt · w) (p/min/m);  LOS = first level L with q ≤ max(L), else F"
        ),
        inputs=(
            *OCCUPANCY_INPUTS,
            Input(("crowd-density",), ("density_ppm2",), "gauge", "Space per person as 1/ρ where density is measured."),
            Input(LINE_COUNTS, ("count_in", "count_out"), "additive_count", "Flow basis: both directions together."),
            Input(("crowd-flow",), ("people_count",), "additive_count", "Flow basis."),
            Input(("hourly-pedestrian-count",), ("count",), "additive_count", "Flow basis (hourly totals)."),
        ),  # fmt: skip
        parameters=(
            Parameter(
                "area_type",
                None,
                "walkway | stairs | queue",
                "The Fruin table, from the area's type; squares and venues use walkway.",
                local=True,
            ),
            Parameter("surface_m2", None, "m2", "Usable surface of the area.", local=True, minimum=0),
            Parameter(
                "effective_width_m",
                None,
                "m",
                "Effective width of the area's gates, for the flow basis.",
                local=True,
                minimum=0,
            ),
        ),  # fmt: skip
        unit="level",
        levels=_space_levels() + _upper_bound_levels("walkway-flow", FRUIN_FLOW_WALKWAY, "F", "p/min/m"),
        sources=(FRUIN,),
        limitations=(
            "Fruin's tables were measured on North American commuters in the 1960s; other populations and purposes "
            "(tourists, event visitors, people with luggage) walk differently.",
            "The flow table is Fruin's walkway table; it is used for every area type on the flow basis.",
            "An average over the bucket and the surface: short peaks and local hot spots are smoothed away.",
            *OCCUPANCY_LIMITATIONS[:1],
        ),
        scopes=("area",),
    ),
    Indicator(
        code="flow",
        version=VERSION,
        title="Flow per metre",
        summary="Persons per minute per metre of effective width, against the Green Guide's limits, with the "
        "Weidmann expected speed.",
        formula_words=(
            "The persons passing the area's gates in the bucket, divided by the bucket's minutes and the effective "
            "width. The ratio to the limit (82 p/min/m on the level, 66 on stairs) is served, and the bucket is "
            "flagged `over_limit` above it. The expected walking speed is Weidmann's speed at the density that "
            "carries this flow on the free-flow branch of his fundamental diagram."
        ),
        formula_symbols=(
            "q = n / (Δt · w) (p/min/m);  ratio = q / q_limit;  "
            "v(ρ) = v_free · (1 − exp(−γ · (1/ρ − 1/ρ_max)));  ρ: ρ · v(ρ) = q / 60, ρ ≤ ρ_capacity"
        ),
        inputs=(
            Input(LINE_COUNTS, ("count_in", "count_out"), "additive_count", "Both directions together."),
            Input(("crowd-flow",), ("people_count",), "additive_count", "Both directions together."),
            Input(("hourly-pedestrian-count",), ("count",), "additive_count", "Hourly totals: the mean flow only."),
        ),  # fmt: skip
        parameters=(
            Parameter(
                "effective_width_m",
                None,
                "m",
                "Effective width of the area's gates (clear width minus boundary layers).",
                local=True,
                minimum=0,
            ),
            Parameter("limit_level", 82, "p/min/m", "Limit on the level (Green Guide).", minimum=0),
            Parameter("limit_stairs", 66, "p/min/m", "Limit on stairs (Green Guide).", minimum=0),
            Parameter("v_free", 1.34, "m/s", "Free walking speed (Weidmann).", minimum=0),
            Parameter("gamma", 1.913, "1/m2", "Weidmann's shape parameter γ.", minimum=0),
            Parameter("rho_max", 5.4, "persons/m2", "Density at which walking stops (Weidmann).", minimum=0),
        ),  # fmt: skip
        unit="p/min/m",
        sources=(GREEN_GUIDE, WEIDMANN, FRUIN),
        limitations=(
            "A mean over the bucket: the peak minute within a 15-minute or hourly bucket can be far higher.",
            "The Green Guide's limits are for the design of exits at sports grounds; here they are a reference, not "
            "a judgement of the place's safety.",
            "Weidmann's diagram carries at most about 73.5 p/min/m (1.225 persons/m/s at 1.75 persons/m²); above "
            "that no density carries the flow and the expected speed is not given.",
            "The free-flow branch is assumed: a congested crowd carries the same flow at a higher density and a "
            "lower speed.",
        ),
        scopes=("area",),
    ),
    Indicator(
        code="crowding-level",
        version=VERSION,
        title="Crowding level",
        summary="An absolute safety level from density: green, yellow, orange, red (Still); moving crowds are "
        "unstable above 3 persons/m².",
        formula_words=(
            "The density looked up in the levels: green up to 2 persons/m², yellow up to 3, orange up to 5, red "
            "above 5 (each upper bound inclusive). A moving crowd (on a walkway or stairs) above unstable_moving "
            "is flagged `unstable`. Absolute, the same for every place: see busyness for the relative one."
        ),
        formula_symbols="green: ρ ≤ 2;  yellow: 2 < ρ ≤ 3;  orange: 3 < ρ ≤ 5;  red: ρ > 5;  unstable ⇔ moving ∧ ρ > 3",
        inputs=DENSITY_INPUTS,
        parameters=(
            Parameter(
                "moving", None, "boolean", "Whether the crowd moves: true for walkway and stairs areas.", local=True
            ),
            Parameter("unstable_moving", 3, "persons/m2", "Density above which a moving crowd is unstable.", minimum=0),
        ),  # fmt: skip
        unit="level",
        levels=_upper_bound_levels("density", CROWDING_LEVELS, "red", "persons/m2"),
        sources=(STILL, FRUIN),
        limitations=(
            "Still's levels are for standing crowds; for moving crowds the flag `unstable` matters more than "
            "the colour.",
            "The density is an average over the area (see density): a local crush can hide in a green area.",
            *OCCUPANCY_LIMITATIONS[:1],
        ),
        scopes=("area",),
    ),
    Indicator(
        code="busyness",
        version=VERSION,
        title="Busyness",
        summary="How busy relative to the same place's own baseline: the same weekday and local time over the "
        "previous weeks.",
        formula_words=(
            "The bucket's count divided by the baseline: the median count of the same weekday and local time of day "
            "over the previous `weeks` weeks (weeks without data left out). Below `quieter` it is quieter, from "
            "`quieter` usual, from `busier` busier, from `much_busier` much busier. No baseline (no earlier data, "
            "or a median of 0) gives no value."
        ),
        formula_symbols=(
            "b = median{ c(t − 7d·k) : k = 1…weeks };  r = c(t) / b;  "
            "quieter: r < q₁;  usual: q₁ ≤ r < q₂;  busier: q₂ ≤ r < q₃;  much busier: r ≥ q₃"
        ),
        inputs=COUNT_INPUTS,
        parameters=(
            Parameter("weeks", 4, "weeks", "Previous weeks in the baseline.", minimum=1, maximum=12),
            Parameter(
                "quieter",
                0.75,
                "ratio",
                "Below this ratio: quieter. The area's thresholds['busyness'] override it.",
                local=True,
                minimum=0,
            ),
            Parameter(
                "busier", 1.25, "ratio", "From this ratio: busier (area override as above).", local=True, minimum=0
            ),
            Parameter(
                "much_busier",
                1.75,
                "ratio",
                "From this ratio: much busier (area override as above).",
                local=True,
                minimum=0,
            ),
        ),  # fmt: skip
        unit="ratio",
        levels=(
            _level("ratio", "quieter", None, 0.75, "ratio", "min"),
            _level("ratio", "usual", 0.75, 1.25, "ratio", "min"),
            _level("ratio", "busier", 1.25, 1.75, "ratio", "min"),
            _level("ratio", "much_busier", 1.75, None, "ratio", "min"),
        ),
        sources=(HYNDMAN, STILL),
        limitations=(
            "Relative, not a safety level: a usually packed place is 'usual' when packed. Read it beside "
            "crowding-level.",
            "Holidays, events and roadworks in the previous weeks shift the baseline; the median damps one odd week "
            "out of four, not two.",
            "Around a daylight-saving change the same local hour is compared, which is what visitors live by.",
        ),
    ),
    Indicator(
        code="forecast",
        version=VERSION,
        title="Forecast",
        summary="Expected count for the next hours from the same-weekday profile and the event calendar, with its "
        "error on past data.",
        formula_words=(
            "For each future bucket up to horizon_hours ahead: the median count of the same weekday and local time "
            "over the previous `weeks` weeks (a seasonal-naive profile), plus event_share times the expected "
            "visitors of the events in the event-calendar dataset that overlap the bucket, spread evenly over each "
            "event's time. Its error is measured by forecasting the last `weeks` weeks the same way (each from the "
            "weeks before it) and comparing with what was counted: mean absolute error, and mean absolute "
            "percentage error over the buckets whose count was not 0."
        ),
        formula_symbols=(
            "ĉ(t) = median{ c(t − 7d·k) : k = 1…weeks } + event_share · Σₑ Vₑ · |e ∩ t| / |e|;  "
            "MAE = (1/n) Σ |c − ĉ|;  MAPE = (100/n) Σ_{c≠0} |c − ĉ| / |c|"
        ),
        inputs=(
            *COUNT_INPUTS,
            Input(("event-calendar",), ("expected_visitors",), "gauge", "Planned events and their expected visitors."),
        ),  # fmt: skip
        parameters=(
            Parameter("weeks", 4, "weeks", "Previous weeks in the profile and in the error.", minimum=1, maximum=12),
            Parameter("horizon_hours", 24, "hours", "How far ahead.", minimum=1, maximum=168),
            Parameter(
                "event_share",
                1.0,
                "share",
                "Share of an event's expected visitors added to the area's count.",
                minimum=0,
            ),
        ),  # fmt: skip
        unit="persons",
        sources=(HYNDMAN,),
        limitations=(
            "A seasonal-naive profile: no trend, no weather, no school holidays; it repeats the recent weeks.",
            "Event visitors are spread evenly over the event and all added to the area (times event_share); real "
            "arrivals peak before the start and leave at the end.",
            "The MAPE leaves out buckets counted 0 and is large for small counts; read it beside the MAE.",
        ),
    ),
    Indicator(
        code="distancing",
        version=VERSION,
        title="Distancing",
        summary="Shares of the 1.5 m closeness levels: high risk (below 1.5 m), low risk, safe.",
        formula_words=(
            "Per bucket, the persons counted in each closeness band, divided by all persons counted: high risk "
            "closer than 1.5 m to someone, low risk between 1.5 and 3 m, safe beyond 3 m. The value is the high-risk "
            "share."
        ),
        formula_symbols=(
            "s_high = n₍<1.5₎ / n,  s_low = n₍1.5–3₎ / n,  s_safe = n₍>3₎ / n,  n = n₍<1.5₎ + n₍1.5–3₎ + n₍>3₎"
        ),
        inputs=(
            Input(
                ("distance-keeping",),
                ("count_within_1_5m", "count_1_5m_to_3m", "count_beyond_3m"),
                "additive_count",
                "Persons per closeness band.",
            ),
        ),  # fmt: skip
        parameters=(),
        unit="share",
        levels=(
            _level("distance", "high_risk", None, 1.5, "m", "min"),
            _level("distance", "low_risk", 1.5, 1.8, "m", "min"),
            _level("distance", "safe", 1.8, None, "m", "min"),
        ),
        sources=(RIVM, AMSTERDAM_MONITOR),
        limitations=(
            "The schema's bands end at 1.5 m and 3 m, so the 1.8 m edge of the closeness levels cannot be "
            "separated: low_risk holds everyone between 1.5 and 3 m (an upper bound of the true low-risk share) "
            "and safe only those beyond 3 m (a lower bound).",
            "Persons walking together (households) count as close; the levels do not know who belongs together.",
        ),
    ),
    Indicator(
        code="sound-level",
        version=VERSION,
        title="Sound level",
        summary="Energy-averaged A-weighted sound level LAeq over the bucket.",
        formula_words=(
            "Convert each measured LAeq to energy (10 to the power L/10), average the energies, and convert back: "
            "never the arithmetic mean of decibels (60 and 70 dB average to 67.4 dB, not 65). Per area, over all "
            "the area's sound sensors."
        ),
        formula_symbols="L_Aeq = 10 · log₁₀( (1/n) Σᵢ 10^(Lᵢ/10) )  dB(A)",
        inputs=(Input(("sound-anomaly",), ("level_laeq_db",), "sound_level", "LAeq per interval, in dB(A)."),),
        parameters=(),
        unit="dB(A)",
        sources=(IEC_61672, ISO_1996),
        limitations=(
            "Each interval weighs the same: intervals of unequal length are averaged by count, not by time.",
            "Per area, sensors at different distances from the source are averaged as if they heard the same place.",
            "No audio is kept: the level says how loud, not what was heard.",
        ),
        privacy="none",
    ),
)

INDICATORS: dict[str, Indicator] = {d.code: d for d in _DEFINITIONS}


def indicator(code: str) -> Indicator | None:
    """The definition with this code, or None."""
    return INDICATORS.get(code)
