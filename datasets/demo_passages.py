"""The demo's simulated "Centre passages": counts at Voorbeeldstad's line counters, made up.

Five weeks up to the current quarter hour, so that busyness has its four weeks of baseline and the
forecast its same-weekday profile. Every area has a profile of people entering per 15 minutes by local
hour and kind of day (evenings busier on Friday and Saturday; the nights after them belong to Saturday
and Sunday morning), wobbled by a random factor per day and per quarter hour from `random.Random`
seeded with the area and the local date: the same day looks the same whenever the demo is loaded.
The simulation runs per quarter hour; records are the schema's five-minute intervals (a third each).
People leave after a dwell time (long in the evening's nightlife, short by day or on a station square),
so that in and out balance and an area's occupancy (start + in - out) never drops below zero and is
zero at the occupancy indicator's 4 o'clock reset. A gate takes its share of the area's passages.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM_TIME = ZoneInfo("Europe/Amsterdam")
QUARTER = timedelta(minutes=15)
FIVE_MINUTES = timedelta(minutes=5)
WEEKS = 5
SEED = "voorbeeldstad-centre-passages"
# Arrivals start this long before the first record, so that the first records see people leave as well.
WARM_UP = timedelta(hours=6)
RESET_HOUR = 4

# People entering the area per 15 minutes, by local hour: 0-11 on the first line, 12-23 on the second.
NIGHTLIFE = {
    "weekday": (50, 30, 15, 8, 4, 4, 8, 20, 40, 60, 80, 100,
                130, 130, 120, 120, 130, 150, 160, 170, 190, 210, 200, 140),
    "friday": (60, 35, 18, 8, 4, 4, 8, 20, 40, 60, 80, 100,
               130, 140, 130, 140, 170, 210, 260, 330, 430, 560, 700, 780),
    "saturday": (720, 520, 300, 120, 30, 6, 6, 15, 40, 80, 140, 190,
                 240, 260, 260, 260, 270, 290, 320, 400, 520, 680, 840, 900),
    "sunday": (820, 600, 340, 140, 35, 6, 5, 8, 15, 30, 60, 100,
               140, 160, 170, 160, 150, 140, 130, 120, 110, 100, 80, 60),
}  # fmt: skip
STATION = {
    "weekday": (50, 15, 5, 3, 6, 25, 130, 430, 520, 290, 190, 170,
                200, 190, 180, 220, 370, 480, 340, 210, 160, 130, 110, 80),
    "friday": (50, 15, 5, 3, 6, 25, 130, 420, 500, 290, 200, 180,
               210, 200, 200, 250, 400, 500, 380, 280, 260, 240, 220, 170),
    "saturday": (120, 60, 20, 5, 5, 10, 40, 90, 150, 210, 260, 300,
                 320, 320, 310, 300, 290, 280, 270, 260, 240, 220, 200, 160),
    "sunday": (140, 70, 20, 5, 4, 6, 20, 50, 90, 140, 190, 230,
               250, 250, 240, 230, 220, 210, 190, 160, 130, 100, 80, 60),
}  # fmt: skip

# Shares of the people who entered in one quarter hour that leave 0, 1, 2, ... quarter hours later.
STAY_SHORT = (0.3, 0.4, 0.2, 0.1)  # shopping, passing through
STAY_NIGHT = (0, 0, 0.03, 0.07, 0.1, 0.14, 0.16, 0.15, 0.12, 0.09, 0.06, 0.04, 0.03, 0.01)  # about 1.5 hours
PASSING = (0.7, 0.25, 0.05)  # a station square: most leave within the quarter hour


@dataclass(frozen=True)
class SimulatedArea:
    name: str
    arrivals: dict[str, tuple[int, ...]]
    gates: tuple[tuple[str, float], ...]  # (sensor reference, share of the area's passages); shares sum to 1
    nightlife: bool = False

    def stay(self, local: datetime) -> tuple[float, ...]:
        if self.nightlife and (local.hour >= 19 or local.hour < 4):
            return STAY_NIGHT
        return STAY_SHORT if self.nightlife else PASSING


AREAS = (
    SimulatedArea(
        "Stratumseind",
        NIGHTLIFE,
        (("vbs-stratumseind-lidar-01", 0.6), ("vbs-stratumseind-lidar-02", 0.4)),
        nightlife=True,
    ),
    SimulatedArea("Stationsplein", STATION, (("vbs-station-thermal-01", 1.0),)),
)


def day_kind(local: datetime) -> str:
    return {4: "friday", 5: "saturday", 6: "sunday"}.get(local.weekday(), "weekday")


def expected_arrivals(area: SimulatedArea, local: datetime) -> float:
    """The profile at this local moment, interpolated between the hours."""
    hours = area.arrivals[day_kind(local)]
    this, following = hours[local.hour], hours[(local.hour + 1) % 24]
    return this + (following - this) * local.minute / 60


def _day_random(area: SimulatedArea, day) -> tuple[random.Random, float]:
    """The day's random numbers and its factor (some days are busier than others)."""
    rng = random.Random(f"{SEED}:{area.name}:{day.isoformat()}")  # noqa: S311 (made-up counts, not secrets)
    return rng, max(0.7, rng.gauss(1.0, 0.08))


def quarter_hour(now: datetime) -> datetime:
    """The start of the quarter hour that holds `now` (in UTC; every offset of Europe/Amsterdam is whole hours)."""
    now = now.astimezone(UTC)
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)


def area_passages(area: SimulatedArea, start: datetime, end: datetime) -> list[tuple[datetime, int, int]]:
    """(quarter-hour start, people entering, people leaving) for the area from `start` to `end` (UTC)."""
    moments = []
    moment = start - WARM_UP
    while moment < end:
        moments.append(moment)
        moment += QUARTER
    days: dict = {}
    arrivals, leaving = [], [0.0] * (len(moments) + len(STAY_NIGHT))
    for index, moment in enumerate(moments):
        local = moment.astimezone(AMSTERDAM_TIME)
        if local.date() not in days:
            days[local.date()] = _day_random(area, local.date())
        rng, day_factor = days[local.date()]
        entering = max(0, round(expected_arrivals(area, local) * day_factor * max(0.5, rng.gauss(1.0, 0.07))))
        arrivals.append(entering)
        # Everybody has left by 4 o'clock (the occupancy indicator's daily reset): who comes after midnight
        # stays shorter, within the quarter hours left (their shares scaled up), rather than all leaving at once.
        stay = area.stay(local)
        if local.hour < RESET_HOUR:
            stay = stay[: (RESET_HOUR * 60 - local.hour * 60 - local.minute) // 15] or (1.0,)
            stay = tuple(share / sum(stay) for share in stay) if sum(stay) else (1.0,)
        for later, share in enumerate(stay):
            leaving[index + later] += entering * share
    # Whole people leave: round the running total, so that nobody leaves who did not come.
    passages, left, left_rounded = [], 0.0, 0
    for index, moment in enumerate(moments):
        left += leaving[index]
        leaving_now = round(left) - left_rounded
        left_rounded += leaving_now
        if moment >= start:
            passages.append((moment, arrivals[index], leaving_now))
    return passages


def thirds(count: int) -> tuple[int, int, int]:
    """A quarter hour's count over its three five-minute intervals (the schema's period), the rest first."""
    base, rest = divmod(count, 3)
    return tuple(base + (1 if number < rest else 0) for number in range(3))


def centre_passages(now: datetime) -> list[dict]:
    """Records of the crowd-count-line schema (five-minute intervals, its period) for every gate of every
    simulated area, WEEKS up to the start of `now`'s quarter hour."""
    end = quarter_hour(now)
    start = end - timedelta(weeks=WEEKS)
    records = []
    for area in AREAS:
        passages = area_passages(area, start, end)
        taken = {"in": [0] * len(passages), "out": [0] * len(passages)}
        for number, (reference, share) in enumerate(area.gates):
            last = number == len(area.gates) - 1
            for index, (moment, entering, leaving) in enumerate(passages):
                # The last gate takes what the others left, so that the gates add up to the area.
                count_in = entering - taken["in"][index] if last else round(entering * share)
                count_out = leaving - taken["out"][index] if last else round(leaving * share)
                taken["in"][index] += count_in
                taken["out"][index] += count_out
                for step, (step_in, step_out) in enumerate(zip(thirds(count_in), thirds(count_out), strict=True)):
                    step_start = moment + step * FIVE_MINUTES
                    records.append(
                        {
                            "sensor": reference,
                            "observed_from": step_start.astimezone(AMSTERDAM_TIME).isoformat(),
                            "observed_to": (step_start + FIVE_MINUTES).astimezone(AMSTERDAM_TIME).isoformat(),
                            "count_in": step_in,
                            "count_out": step_out,
                        }
                    )
    return records
