"""The crowd indicators' formulas: pure, typed functions (no Django, no database), one per rule.

Every threshold here is the published one (see `definitions.py` for the sources); what is local to an
area (its width, its surface, its own busyness thresholds) comes in as an argument.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from datetime import datetime

# Fruin (1971/1987), area module in m² per person: the lower bound of each level, best first; below the
# last bound the level is F.
FRUIN_AREA: dict[str, list[tuple[str, float]]] = {
    "walkway": [("A", 3.25), ("B", 2.3), ("C", 1.4), ("D", 0.93), ("E", 0.46)],
    "stairs": [("A", 1.86), ("B", 1.4), ("C", 0.93), ("D", 0.65), ("E", 0.37)],
    "queue": [("A", 1.2), ("B", 0.93), ("C", 0.65), ("D", 0.28), ("E", 0.19)],
}
# Fruin walkway flow in persons per minute per metre of width: the upper bound of each level; above: F.
FRUIN_FLOW_WALKWAY: list[tuple[str, float]] = [("A", 23), ("B", 33), ("C", 49), ("D", 66), ("E", 82)]
# Which Fruin table an area type uses: open squares and venues are read as walkways.
FRUIN_TABLE_FOR_AREA_TYPE: dict[str, str] = {
    "walkway": "walkway",
    "stairs": "stairs",
    "queue": "queue",
    "square": "walkway",
    "venue": "walkway",
}
# Still (2014): standing-crowd density levels in persons/m², upper bounds (inclusive); above the last: red.
CROWDING_LEVELS: list[tuple[str, float]] = [("green", 2.0), ("yellow", 3.0), ("orange", 5.0)]
CROWDING_UNSTABLE_MOVING = 3.0
# Weidmann (1993) speed-density relation.
WEIDMANN_V_FREE = 1.34  # m/s
WEIDMANN_GAMMA = 1.913  # 1/m²
WEIDMANN_RHO_MAX = 5.4  # persons/m²


def _finite_non_negative(value: float, name: str) -> float:
    if value is None or math.isnan(value) or value < 0:
        raise ValueError(f"{name} must be a number >= 0, not {value!r}")
    return value


def fruin_table(area_type: str) -> str:
    """The Fruin table (walkway, stairs or queue) for an area type; squares and venues use walkway."""
    try:
        return FRUIN_TABLE_FOR_AREA_TYPE[area_type]
    except KeyError:
        raise ValueError(f"unknown area type {area_type!r}") from None


def fruin_level_from_space(m2_per_person: float | None, table: str) -> str:
    """Fruin level of service A-F from the space per person (m²/person) with the walkway, stairs or queue table.

    None or infinity (nobody there) is A. A value exactly at a bound gets the better level
    (3.25 m²/person on a walkway is A, 2.3 is B); below the last bound it is F.
    """
    if table not in FRUIN_AREA:
        raise ValueError(f"unknown Fruin table {table!r}; one of {', '.join(FRUIN_AREA)}")
    if m2_per_person is None:
        return "A"
    _finite_non_negative(m2_per_person, "m2_per_person")
    for level, lower in FRUIN_AREA[table]:
        if m2_per_person >= lower:
            return level
    return "F"


def fruin_level_from_flow(persons_per_min_per_m: float) -> str:
    """Fruin walkway level of service A-F from the flow per metre of width (persons/min/m).

    A value exactly at a bound gets the better level (23 is A, 82 is E); above 82 it is F.
    """
    _finite_non_negative(persons_per_min_per_m, "persons_per_min_per_m")
    for level, upper in FRUIN_FLOW_WALKWAY:
        if persons_per_min_per_m <= upper:
            return level
    return "F"


def flow_rate(persons: float, minutes: float, width_m: float) -> float:
    """Specific flow: persons passing per minute per metre of effective width (p/min/m)."""
    _finite_non_negative(persons, "persons")
    if not minutes > 0:
        raise ValueError(f"minutes must be > 0, not {minutes!r}")
    if not width_m > 0:
        raise ValueError(f"width_m must be > 0, not {width_m!r}")
    return persons / minutes / width_m


def weidmann_speed(
    density: float,
    v_free: float = WEIDMANN_V_FREE,
    gamma: float = WEIDMANN_GAMMA,
    rho_max: float = WEIDMANN_RHO_MAX,
) -> float:
    """Expected walking speed in m/s at a density (persons/m²): v = v_free·(1 − exp(−γ·(1/ρ − 1/ρ_max))).

    v_free at density 0 (the limit of the formula), 0 at and above rho_max (standstill).
    """
    _finite_non_negative(density, "density")
    if density == 0:
        return v_free
    if density >= rho_max:
        return 0.0
    return v_free * (1.0 - math.exp(-gamma * (1.0 / density - 1.0 / rho_max)))


def _weidmann_flow(density: float, v_free: float, gamma: float, rho_max: float) -> float:
    return density * weidmann_speed(density, v_free, gamma, rho_max)


def weidmann_capacity(
    v_free: float = WEIDMANN_V_FREE, gamma: float = WEIDMANN_GAMMA, rho_max: float = WEIDMANN_RHO_MAX
) -> tuple[float, float]:
    """The highest specific flow of the Weidmann diagram: (density at capacity in 1/m², flow in persons/m/s).

    q(ρ) = ρ·v(ρ) rises from 0 to one maximum and falls to 0 at rho_max; the maximum is where
    dq/dρ = v_free·(1 − E) − v_free·E·γ/ρ = 0 with E = exp(−γ·(1/ρ − 1/ρ_max)), found by bisection.
    """
    low, high = 1e-9, rho_max
    for _ in range(200):
        mid = (low + high) / 2
        e = math.exp(-gamma * (1.0 / mid - 1.0 / rho_max))
        if (1.0 - e) - e * gamma / mid > 0:
            low = mid
        else:
            high = mid
    density = (low + high) / 2
    return density, _weidmann_flow(density, v_free, gamma, rho_max)


def weidmann_density_for_flow(
    flow_p_per_m_per_s: float,
    v_free: float = WEIDMANN_V_FREE,
    gamma: float = WEIDMANN_GAMMA,
    rho_max: float = WEIDMANN_RHO_MAX,
) -> float | None:
    """The density (persons/m²) at which the Weidmann diagram carries a specific flow (persons/m/s).

    A flow below capacity is carried at two densities; this is the free-flow root (the lower one), the
    reading for a flow counted at a line. None above capacity (about 1.22 persons/m/s): no density
    on the diagram carries it.
    """
    _finite_non_negative(flow_p_per_m_per_s, "flow_p_per_m_per_s")
    if flow_p_per_m_per_s == 0:
        return 0.0
    rho_cap, q_cap = weidmann_capacity(v_free, gamma, rho_max)
    if flow_p_per_m_per_s > q_cap:
        return None
    low, high = 0.0, rho_cap
    for _ in range(200):
        mid = (low + high) / 2
        if _weidmann_flow(mid, v_free, gamma, rho_max) < flow_p_per_m_per_s:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def crowding_level(density: float, green: float = 2.0, yellow: float = 3.0, orange: float = 5.0) -> str:
    """Absolute crowding level from density (persons/m²): green ≤ 2 < yellow ≤ 3 < orange ≤ 5 < red."""
    _finite_non_negative(density, "density")
    if not green < yellow < orange:
        raise ValueError("crowding thresholds must rise: green < yellow < orange")
    for level, upper in (("green", green), ("yellow", yellow), ("orange", orange)):
        if density <= upper:
            return level
    return "red"


def crowding_unstable(density: float, moving: bool, unstable_moving: float = CROWDING_UNSTABLE_MOVING) -> bool:
    """A moving crowd (walkway, stairs) above `unstable_moving` persons/m² is unstable; a standing one is not."""
    _finite_non_negative(density, "density")
    return bool(moving) and density > unstable_moving


def occupancy_series(steps: list[tuple[int | None, int | None] | None], start: int = 0) -> list[int]:
    """Occupancy after each step: start + cumulative (in − out), never below zero.

    A step is (in, out) for one interval. A step that is None or (None, None) has no data: the
    occupancy carries unchanged. A single None side counts as 0 (a gate that counts one way only).
    Clamping at zero loses the exits that outnumber the entries so far (drift); `drift` flags a day
    whose residual is large.
    """
    occupancy = max(0, int(start))
    series = []
    for step in steps:
        if step is not None:
            entered, left = step
            if entered is not None or left is not None:
                occupancy = max(0, occupancy + (entered or 0) - (left or 0))
        series.append(occupancy)
    return series


def drift(residual: int, persons_in_day: int, drift_persons: int = 20, drift_share: float = 0.05) -> bool:
    """True when the end-of-day residual occupancy exceeds max(drift_persons, drift_share × persons in the day).

    The residual is the occupancy left at the daily reset hour, when the area should be empty; its
    size (either sign) is compared, so an overcount of exits is flagged as well as one of entries.
    """
    return abs(residual) > max(drift_persons, drift_share * max(persons_in_day, 0))


def median(values: Iterable[float | None]) -> float | None:
    """The median of the values that are not None; None when there are none."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return float(statistics.median(present))


def busyness_ratio(count: float | None, baseline: float | None) -> float | None:
    """count / baseline; None without a count or a positive baseline (nothing to compare with)."""
    if count is None or baseline is None or baseline <= 0:
        return None
    return count / baseline


def busyness_level(
    ratio: float | None, quieter: float = 0.75, busier: float = 1.25, much_busier: float = 1.75
) -> str | None:
    """Busyness relative to the baseline: quieter below `quieter`, usual up to `busier`, busier up to
    `much_busier`, much_busier from it (each lower bound inclusive). None ratio -> None.
    """
    if not 0 <= quieter < busier < much_busier:
        raise ValueError("busyness thresholds must rise: 0 <= quieter < busier < much_busier")
    if ratio is None:
        return None
    _finite_non_negative(ratio, "ratio")
    if ratio < quieter:
        return "quieter"
    if ratio < busier:
        return "usual"
    if ratio < much_busier:
        return "busier"
    return "much_busier"


def event_visitors_in_bucket(
    expected_visitors: float, event_start: datetime, event_end: datetime, bucket_start: datetime, bucket_end: datetime
) -> float:
    """The part of an event's expected visitors that falls in a bucket: spread evenly over the event's time."""
    _finite_non_negative(expected_visitors, "expected_visitors")
    if not event_end > event_start:
        raise ValueError("an event ends after it starts")
    overlap = (min(event_end, bucket_end) - max(event_start, bucket_start)).total_seconds()
    if overlap <= 0:
        return 0.0
    return expected_visitors * overlap / (event_end - event_start).total_seconds()


def forecast_value(profile: float | None, event_visitors: float = 0.0, event_share: float = 1.0) -> float | None:
    """Seasonal-naive forecast: the same-weekday profile plus event_share × the event visitors in the bucket."""
    if profile is None:
        return None
    return profile + event_share * _finite_non_negative(event_visitors, "event_visitors")


def laeq(levels_db: list[float]) -> float | None:
    """Energy-averaged level: 10·log10(mean of 10^(L/10)); never the arithmetic mean of the decibels.

    60 and 70 dB give 67.4 dB, not 65. None for no levels.
    """
    levels = list(levels_db)
    if not levels:
        return None
    top = max(levels)  # factored out so loud levels cannot overflow
    return top + 10.0 * math.log10(math.fsum(10.0 ** ((level - top) / 10.0) for level in levels) / len(levels))


def laeq_from_energy(energy_sum: float, n: int) -> float | None:
    """LAeq from a rollup's energy sum Σ10^(L/10) over n levels: 10·log10(energy_sum / n); None when n is 0."""
    if not n:
        return None
    if not energy_sum > 0:
        raise ValueError(f"energy_sum must be > 0, not {energy_sum!r}")
    return 10.0 * math.log10(energy_sum / n)


def distancing_shares(within_1_5: float, between_1_5_3: float, beyond_3: float) -> dict[str, float] | None:
    """Shares of the closeness bands, summing to 1: high_risk (< 1.5 m), low_risk (1.5-3 m), safe (> 3 m).

    The schema's bands end at 1.5 m and 3 m, so low_risk holds 1.5-3 m (the 1.8 m edge of the Dutch
    levels cannot be separated): it is an upper bound of the 1.5-1.8 m share. None when nobody was counted.
    """
    for name, value in (("within_1_5", within_1_5), ("between_1_5_3", between_1_5_3), ("beyond_3", beyond_3)):
        _finite_non_negative(value, name)
    total = within_1_5 + between_1_5_3 + beyond_3
    if total == 0:
        return None
    return {"high_risk": within_1_5 / total, "low_risk": between_1_5_3 / total, "safe": beyond_3 / total}


def _compared(pairs: Iterable[tuple[float | None, float | None]]) -> list[tuple[float, float]]:
    return [(actual, forecast) for actual, forecast in pairs if actual is not None and forecast is not None]


def mae(pairs: Iterable[tuple[float | None, float | None]]) -> float | None:
    """Mean absolute error over (actual, forecast) pairs; pairs with a None skipped; None when none are left."""
    compared = _compared(pairs)
    if not compared:
        return None
    return math.fsum(abs(actual - forecast) for actual, forecast in compared) / len(compared)


def mape(pairs: Iterable[tuple[float | None, float | None]]) -> float | None:
    """Mean absolute percentage error in percent over (actual, forecast) pairs: 100 × mean(|a − f| / |a|).

    Pairs whose actual is 0 (no percentage) or with a None are skipped; None when none are left.
    """
    compared = [(a, f) for a, f in _compared(pairs) if a != 0]
    if not compared:
        return None
    return 100.0 * math.fsum(abs(a - f) / abs(a) for a, f in compared) / len(compared)
