"""The indicators' formulas on hand-computed cases, every threshold edge, and the definitions' completeness."""

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from datasets.indicators import formulas as f
from datasets.indicators.definitions import INDICATORS, REQUIRED_CODES, indicator

PROJECT = Path(__file__).resolve().parents[2]
EPS = 1e-9


# --- Fruin from space -------------------------------------------------------------------------------------------

SPACE_EDGES = {
    # table: [(value, level)], at each bound and just either side; written out by hand from Fruin's tables.
    "walkway": [
        (10.0, "A"), (3.25 + EPS, "A"), (3.25, "A"), (3.25 - EPS, "B"),
        (2.3 + EPS, "B"), (2.3, "B"), (2.3 - EPS, "C"),
        (1.4 + EPS, "C"), (1.4, "C"), (1.4 - EPS, "D"),
        (0.93 + EPS, "D"), (0.93, "D"), (0.93 - EPS, "E"),
        (0.46 + EPS, "E"), (0.46, "E"), (0.46 - EPS, "F"), (0.0, "F"),
    ],
    "stairs": [
        (1.86 + EPS, "A"), (1.86, "A"), (1.86 - EPS, "B"),
        (1.4 + EPS, "B"), (1.4, "B"), (1.4 - EPS, "C"),
        (0.93 + EPS, "C"), (0.93, "C"), (0.93 - EPS, "D"),
        (0.65 + EPS, "D"), (0.65, "D"), (0.65 - EPS, "E"),
        (0.37 + EPS, "E"), (0.37, "E"), (0.37 - EPS, "F"),
    ],
    "queue": [
        (1.2 + EPS, "A"), (1.2, "A"), (1.2 - EPS, "B"),
        (0.93 + EPS, "B"), (0.93, "B"), (0.93 - EPS, "C"),
        (0.65 + EPS, "C"), (0.65, "C"), (0.65 - EPS, "D"),
        (0.28 + EPS, "D"), (0.28, "D"), (0.28 - EPS, "E"),
        (0.19 + EPS, "E"), (0.19, "E"), (0.19 - EPS, "F"),
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("table", "value", "level"), [(table, v, lv) for table, cases in SPACE_EDGES.items() for v, lv in cases]
)
def test_fruin_level_from_space_at_and_around_every_bound(table, value, level):
    assert f.fruin_level_from_space(value, table) == level


def test_fruin_space_of_an_empty_area_is_a():
    for table in ("walkway", "stairs", "queue"):
        assert f.fruin_level_from_space(None, table) == "A"
        assert f.fruin_level_from_space(math.inf, table) == "A"


def test_fruin_space_hand_computed():
    # 100 m² walkway holding 50 persons: 2 m²/person, between 1.4 and 2.3: C.
    assert f.fruin_level_from_space(100 / 50, "walkway") == "C"
    # The same on stairs: 2 >= 1.86: A; in a queue 2 >= 1.2: A.
    assert f.fruin_level_from_space(2.0, "stairs") == "A"
    # 30 m² queue with 100 persons: 0.3 m²/person: D (0.28-0.65).
    assert f.fruin_level_from_space(30 / 100, "queue") == "D"


def test_fruin_space_refuses_an_unknown_table_and_a_negative_space():
    with pytest.raises(ValueError):
        f.fruin_level_from_space(1.0, "square")
    with pytest.raises(ValueError):
        f.fruin_level_from_space(-0.1, "walkway")
    with pytest.raises(ValueError):
        f.fruin_level_from_space(math.nan, "walkway")


def test_fruin_table_for_area_types():
    assert [f.fruin_table(t) for t in ("walkway", "stairs", "queue", "square", "venue")] == [
        "walkway",
        "stairs",
        "queue",
        "walkway",
        "walkway",
    ]
    with pytest.raises(ValueError):
        f.fruin_table("beach")


# --- Fruin from flow --------------------------------------------------------------------------------------------

FLOW_EDGES = [
    (0, "A"), (23 - EPS, "A"), (23, "A"), (23 + EPS, "B"),
    (33 - EPS, "B"), (33, "B"), (33 + EPS, "C"),
    (49 - EPS, "C"), (49, "C"), (49 + EPS, "D"),
    (66 - EPS, "D"), (66, "D"), (66 + EPS, "E"),
    (82 - EPS, "E"), (82, "E"), (82 + EPS, "F"), (500, "F"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "level"), FLOW_EDGES)
def test_fruin_level_from_flow_at_and_around_every_bound(value, level):
    assert f.fruin_level_from_flow(value) == level


def test_flow_rate_hand_computed():
    # 900 persons through a 2.5 m gate in 15 minutes: 900 / 15 / 2.5 = 24 p/min/m: level B.
    assert f.flow_rate(900, 15, 2.5) == pytest.approx(24.0)
    assert f.fruin_level_from_flow(f.flow_rate(900, 15, 2.5)) == "B"
    assert f.flow_rate(0, 60, 3) == 0.0
    for persons, minutes, width in ((10, 0, 1), (10, 15, 0), (10, 15, -1), (-1, 15, 1)):
        with pytest.raises(ValueError):
            f.flow_rate(persons, minutes, width)


# --- Weidmann ---------------------------------------------------------------------------------------------------


def test_weidmann_speed_at_zero_one_max_and_above():
    assert f.weidmann_speed(0) == 1.34
    # ρ = 1: 1.34 · (1 − exp(−1.913 · (1 − 1/5.4))) = 1.34 · (1 − exp(−1.558741)) = 1.34 · 0.789580 = 1.058063
    assert f.weidmann_speed(1.0) == pytest.approx(1.058063, abs=1e-6)
    assert f.weidmann_speed(5.4) == 0.0
    assert f.weidmann_speed(6.0) == 0.0
    assert f.weidmann_speed(5.4 - 1e-6) == pytest.approx(0.0, abs=1e-5)
    # Tiny density: the free speed (the formula's limit).
    assert f.weidmann_speed(1e-6) == pytest.approx(1.34)
    with pytest.raises(ValueError):
        f.weidmann_speed(-1)


def test_weidmann_capacity_is_weidmanns():
    # Weidmann (1993): capacity about 1.225 persons/m/s at about 1.75 persons/m².
    rho, q = f.weidmann_capacity()
    assert rho == pytest.approx(1.75, abs=0.01)
    assert q == pytest.approx(1.225, abs=0.001)
    # It is the maximum: both sides carry less.
    assert rho * f.weidmann_speed(rho) > (rho - 0.01) * f.weidmann_speed(rho - 0.01)
    assert rho * f.weidmann_speed(rho) > (rho + 0.01) * f.weidmann_speed(rho + 0.01)


@pytest.mark.parametrize("density", [0.05, 0.3, 0.9, 1.0, 1.5, 1.74])
def test_weidmann_flow_inversion_round_trip(density):
    flow = density * f.weidmann_speed(density)
    assert f.weidmann_density_for_flow(flow) == pytest.approx(density, rel=1e-9)


def test_weidmann_inversion_takes_the_free_flow_root_and_none_above_capacity():
    # ρ = 3 is on the congested branch; its flow is carried at a lower, free-flow density too.
    congested_flow = 3.0 * f.weidmann_speed(3.0)
    root = f.weidmann_density_for_flow(congested_flow)
    assert root < f.weidmann_capacity()[0] < 3.0
    assert root * f.weidmann_speed(root) == pytest.approx(congested_flow)
    assert f.weidmann_density_for_flow(0) == 0.0
    assert f.weidmann_density_for_flow(1.3) is None
    # The Green Guide's 82 p/min/m (1.367 persons/m/s) is above what the diagram carries.
    assert f.weidmann_density_for_flow(82 / 60) is None
    with pytest.raises(ValueError):
        f.weidmann_density_for_flow(-0.1)


# --- Crowding level ---------------------------------------------------------------------------------------------

CROWDING_EDGES = [
    (0, "green"), (2 - EPS, "green"), (2, "green"), (2 + EPS, "yellow"),
    (3 - EPS, "yellow"), (3, "yellow"), (3 + EPS, "orange"),
    (5 - EPS, "orange"), (5, "orange"), (5 + EPS, "red"), (9, "red"),
]  # fmt: skip


@pytest.mark.parametrize(("density", "level"), CROWDING_EDGES)
def test_crowding_level_at_and_around_every_bound(density, level):
    assert f.crowding_level(density) == level


def test_crowding_unstable_only_for_moving_crowds_above_three():
    assert f.crowding_unstable(3 + EPS, moving=True)
    assert not f.crowding_unstable(3, moving=True)
    assert not f.crowding_unstable(3 - EPS, moving=True)
    assert not f.crowding_unstable(4.5, moving=False)
    assert f.crowding_unstable(2.6, moving=True, unstable_moving=2.5)


def test_crowding_level_refuses_bad_input():
    with pytest.raises(ValueError):
        f.crowding_level(-1)
    with pytest.raises(ValueError):
        f.crowding_level(1, green=3, yellow=2)


# --- Occupancy --------------------------------------------------------------------------------------------------


def test_occupancy_series_hand_computed():
    # in/out per 15 minutes: 10/0, 5/3, 0/4, 2/2 -> 10, 12, 8, 8.
    assert f.occupancy_series([(10, 0), (5, 3), (0, 4), (2, 2)]) == [10, 12, 8, 8]
    assert f.occupancy_series([(1, 0)], start=5) == [6]


def test_occupancy_series_clamps_at_zero():
    # 3 in, 5 out: clamped to 0 (not -2), so the next 4 in give 4 (not 2).
    assert f.occupancy_series([(3, 0), (0, 5), (4, 0)]) == [3, 0, 4]
    assert f.occupancy_series([(0, 1)], start=-5) == [0]


def test_occupancy_series_none_steps_carry():
    assert f.occupancy_series([(10, 0), None, (None, None), (0, 4)]) == [10, 10, 10, 6]
    # One side missing counts as 0: a gate counting entries only.
    assert f.occupancy_series([(10, None), (None, 3)]) == [10, 7]
    assert f.occupancy_series([]) == []


def test_drift_edges():
    # 1000 persons: 5 % is 50 > 20, so the bound is 50.
    assert not f.drift(50, 1000)
    assert f.drift(51, 1000)
    assert f.drift(-51, 1000)
    # 100 persons: 5 % is 5 < 20, so the bound is 20.
    assert not f.drift(20, 100)
    assert f.drift(21, 100)
    assert not f.drift(0, 0)
    assert f.drift(6, 100, drift_persons=5)


# --- Busyness ---------------------------------------------------------------------------------------------------


def test_median_skips_none():
    assert f.median([4, None, 1, 3]) == 3.0
    assert f.median([4, 1, 3, 2]) == 2.5
    assert f.median([None, None]) is None
    assert f.median([]) is None


BUSYNESS_EDGES = [
    (0, "quieter"), (0.75 - EPS, "quieter"), (0.75, "usual"), (0.75 + EPS, "usual"),
    (1.0, "usual"), (1.25 - EPS, "usual"), (1.25, "busier"), (1.25 + EPS, "busier"),
    (1.75 - EPS, "busier"), (1.75, "much_busier"), (1.75 + EPS, "much_busier"), (4, "much_busier"),
]  # fmt: skip


@pytest.mark.parametrize(("ratio", "level"), BUSYNESS_EDGES)
def test_busyness_level_at_and_around_every_bound(ratio, level):
    assert f.busyness_level(ratio) == level


def test_busyness_with_local_thresholds_and_no_baseline():
    assert f.busyness_level(1.1, quieter=0.9, busier=1.1, much_busier=1.5) == "busier"
    assert f.busyness_level(None) is None
    with pytest.raises(ValueError):
        f.busyness_level(1.0, quieter=1.3, busier=1.2, much_busier=1.5)
    # Baseline from the same weekday and hour of four weeks: 600, 640, 580, 700 -> median 620; 812 / 620 = 1.3097.
    baseline = f.median([600, 640, 580, 700])
    assert baseline == 620.0
    assert f.busyness_ratio(812, baseline) == pytest.approx(1.309677, abs=1e-6)
    assert f.busyness_level(f.busyness_ratio(812, baseline)) == "busier"
    assert f.busyness_ratio(10, 0) is None
    assert f.busyness_ratio(10, None) is None
    assert f.busyness_ratio(None, 5) is None


# --- Forecast ---------------------------------------------------------------------------------------------------


def test_event_visitors_spread_over_the_event():
    start = datetime(2026, 11, 20, 18, tzinfo=UTC)
    end = start + timedelta(hours=4)  # 4000 visitors over 4 hours: 1000 an hour
    assert f.event_visitors_in_bucket(4000, start, end, start, start + timedelta(hours=1)) == 1000
    # A bucket half inside the event.
    half = f.event_visitors_in_bucket(4000, start, end, end - timedelta(minutes=30), end + timedelta(minutes=30))
    assert half == 500
    assert f.event_visitors_in_bucket(4000, start, end, end, end + timedelta(hours=1)) == 0.0
    with pytest.raises(ValueError):
        f.event_visitors_in_bucket(10, end, start, start, end)


def test_forecast_value():
    assert f.forecast_value(620.0) == 620.0
    assert f.forecast_value(620.0, event_visitors=1000, event_share=0.5) == 1120.0
    assert f.forecast_value(None, event_visitors=1000) is None


def test_mae_and_mape_hand_computed():
    # (actual, forecast): errors 10, 20, 0 -> MAE 10; MAPE (10/100 + 20/50) / 2 · 100 = 25 % (actual 0 skipped).
    pairs = [(100, 90), (50, 70), (0, 0), (None, 5), (5, None)]
    assert f.mae(pairs) == pytest.approx(10.0)
    assert f.mape(pairs) == pytest.approx(25.0)
    # The order matters for MAPE: the actual is the denominator.
    assert f.mape([(100, 50)]) == pytest.approx(50.0)
    assert f.mape([(50, 100)]) == pytest.approx(100.0)
    assert f.mae([]) is None
    assert f.mape([(0, 5)]) is None
    assert f.mae([(0, 5)]) == 5.0


# --- Sound level ------------------------------------------------------------------------------------------------


def test_laeq_is_energy_averaged():
    assert f.laeq([60, 70]) == pytest.approx(67.4036, abs=1e-4)
    assert round(f.laeq([60, 70]), 1) == 67.4
    assert f.laeq([60, 70]) != pytest.approx(65.0, abs=0.5)
    assert f.laeq([55, 55, 55]) == pytest.approx(55.0)
    assert f.laeq([]) is None
    # Loud levels do not overflow.
    assert f.laeq([400, 400]) == pytest.approx(400.0)


def test_laeq_from_energy_matches_laeq():
    levels = [60, 70, 72.5]
    energy = sum(10 ** (level / 10) for level in levels)
    assert f.laeq_from_energy(energy, len(levels)) == pytest.approx(f.laeq(levels))
    assert f.laeq_from_energy(0, 0) is None
    with pytest.raises(ValueError):
        f.laeq_from_energy(0, 3)


# --- Distancing -------------------------------------------------------------------------------------------------


def test_distancing_shares():
    shares = f.distancing_shares(20, 30, 50)
    assert shares == pytest.approx({"high_risk": 0.2, "low_risk": 0.3, "safe": 0.5})
    assert sum(f.distancing_shares(1, 1, 1).values()) == pytest.approx(1.0)
    assert f.distancing_shares(0, 0, 0) is None
    with pytest.raises(ValueError):
        f.distancing_shares(-1, 2, 3)


# --- Definitions ------------------------------------------------------------------------------------------------


def _schema_measures() -> dict[str, dict[str, str]]:
    measures = {}
    for path in sorted((PROJECT / "datasets" / "schemas").glob("*.json")):
        document = json.loads(path.read_text())
        measures.setdefault(document["code"], {}).update({m["name"]: m["aggregation"] for m in document["measures"]})
    return measures


def test_all_ten_indicators_in_order():
    assert tuple(INDICATORS) == REQUIRED_CODES
    assert indicator("busyness") is INDICATORS["busyness"]
    assert indicator("nope") is None


@pytest.mark.parametrize("code", REQUIRED_CODES)
def test_definition_is_complete(code):
    d = INDICATORS[code]
    assert d.code == code
    assert d.version == "1.0.0"
    for text in (d.title, d.summary, d.formula_words, d.formula_symbols, d.unit):
        assert text.strip()
    assert "\\" not in d.formula_symbols  # plain Unicode, no LaTeX
    assert d.sources and all(len(s) > 20 for s in d.sources)
    assert d.limitations and all(s.strip() for s in d.limitations)
    assert set(d.scopes) <= {"area", "sensor"} and d.scopes
    assert d.privacy in ("persons", "none")
    assert d.inputs
    schemas = _schema_measures()
    for item in d.inputs:
        assert item.schemas and item.measures
        for schema in item.schemas:
            assert schema in schemas, f"{code}: unknown schema {schema}"
            for measure in item.measures:
                assert schemas[schema].get(measure) == item.aggregation, f"{code}: {schema}.{measure}"
    names = [p.name for p in d.parameters]
    assert len(names) == len(set(names))
    for p in d.parameters:
        assert p.description.strip() and p.unit.strip()
        if isinstance(p.default, int | float) and not isinstance(p.default, bool):
            assert p.minimum is None or p.default >= p.minimum, p.name
            assert p.maximum is None or p.default <= p.maximum, p.name
        if p.default is None:
            assert p.local, f"{code}.{p.name}: only a local parameter may lack a generic default"
    for level in d.levels:
        assert set(level) == {"table", "level", "min", "max", "unit", "inclusive"}
        assert level["min"] is None or level["max"] is None or level["min"] < level["max"]
    json.dumps(d.as_dict())  # JSON-ready


def test_parameter_names_and_defaults_of_the_contract():
    defaults = {code: INDICATORS[code].defaults() for code in REQUIRED_CODES}
    assert defaults["count"] == {} and defaults["distancing"] == {} and defaults["sound-level"] == {}
    assert defaults["occupancy"] == {"reset_hour": 4, "drift_persons": 20, "drift_share": 0.05}
    assert defaults["density"] == {"surface_m2": None}
    assert defaults["level-of-service"] == {"area_type": None, "surface_m2": None, "effective_width_m": None}
    assert defaults["flow"] == {
        "effective_width_m": None,
        "limit_level": 82,
        "limit_stairs": 66,
        "v_free": 1.34,
        "gamma": 1.913,
        "rho_max": 5.4,
    }
    assert defaults["crowding-level"] == {"moving": None, "unstable_moving": 3}
    assert defaults["busyness"] == {"weeks": 4, "quieter": 0.75, "busier": 1.25, "much_busier": 1.75}
    assert defaults["forecast"] == {"weeks": 4, "horizon_hours": 24, "event_share": 1.0}
    # The formulas' own defaults agree with the definitions'.
    assert (f.WEIDMANN_V_FREE, f.WEIDMANN_GAMMA, f.WEIDMANN_RHO_MAX) == (1.34, 1.913, 5.4)
    assert f.CROWDING_UNSTABLE_MOVING == defaults["crowding-level"]["unstable_moving"]


def test_levels_tables_follow_the_formulas():
    """Every row of a served levels table gives its own level when a value inside it goes through the formula."""
    los = INDICATORS["level-of-service"].levels
    for row in los:
        inside = _inside(row)
        if row["table"] == "walkway-flow":
            assert f.fruin_level_from_flow(inside) == row["level"]
        else:
            assert f.fruin_level_from_space(inside, row["table"]) == row["level"]
    assert {row["table"] for row in los} == {"walkway", "stairs", "queue", "walkway-flow"}
    for row in INDICATORS["crowding-level"].levels:
        assert f.crowding_level(_inside(row)) == row["level"]
    for row in INDICATORS["busyness"].levels:
        assert f.busyness_level(_inside(row)) == row["level"]


def _inside(row: dict) -> float:
    low, high = row["min"], row["max"]
    if low is None:
        return high / 2
    if high is None:
        return low * 2
    return (low + high) / 2


def test_sound_level_is_not_suppressed_and_the_rest_are():
    assert {c for c, d in INDICATORS.items() if d.privacy == "none"} == {"sound-level"}
