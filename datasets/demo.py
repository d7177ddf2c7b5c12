"""Demo datasets: Melbourne's real hourly counts of January 2011, and Voorbeeldstad's catalogue."""

import csv
import math
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, Role
from accounts.selectors import Caller
from datasets import demo_passages, melbourne, services
from datasets.models import AccessClassification, DatasetStatus, SchemaVersion
from sensors.models import Area, Sensor, SensorStatus

DEMO_DATA = Path(__file__).parent / "demo_data"
MELBOURNE_COUNTS = DEMO_DATA / "melbourne-hourly-counts-2011-01.csv"
AMSTERDAM_TIME = ZoneInfo("Europe/Amsterdam")
# The Stratumseind night: Friday 26 June 2026, the first night of the Stadsfestival, 22:00 to 04:00.
STRATUMSEIND_NIGHT = datetime(2026, 6, 26, 22, tzinfo=AMSTERDAM_TIME)
STRATUMSEIND_INTERVALS = 72  # five minutes each


def _latest(code: str) -> SchemaVersion:
    return SchemaVersion.objects.filter(schema__code=code).order_by("-published_at").first()


def _ingest(caller, dataset, records: list[dict], batch_size: int = 5000, partial: bool = True) -> None:
    for start in range(0, len(records), batch_size):
        answer = services.records_ingest(
            caller=caller,
            dataset=dataset,
            body=orjson.dumps({"records": records[start : start + batch_size]}),
            content_type="application/json",
            partial=partial,
        )
        if answer.status >= 400:
            raise RuntimeError(f"The demo's records for {dataset.title} were refused: {answer.body}")


def coming_event(now: datetime, area: Area) -> dict:
    """An event in the calendar a few hours from now (whenever the demo is loaded), so that the dashboard's
    forecast of the next 24 hours shows what it adds: from the next whole hour + 3 hours, for 4 hours."""
    start = (now.astimezone(AMSTERDAM_TIME) + timedelta(hours=4)).replace(minute=0, second=0, microsecond=0)
    return {
        "event_id": f"light-art-route-{start:%Y-%m-%d-%H}",
        "event_name": f"Light art route through {area.name} (demo)",
        "area_id": area.pk,
        "observed_from": start.isoformat(),
        "observed_to": (start + timedelta(hours=4)).isoformat(),
        "expected_visitors": 5000,
        "category": "other",
    }


def stratumseind_night(references: list[str]) -> list[dict]:
    """Five-minute counts for one night, the same on every load: people stream in until about
    half past midnight and out after two; the quiet edges of the night give small counts (which
    suppression withholds) and the south entrance sees about 60% of the north's."""
    records = []
    for number, reference in enumerate(references):
        share = 1.0 if number == 0 else 0.6
        for step in range(STRATUMSEIND_INTERVALS):
            minutes = 5 * step
            start = STRATUMSEIND_NIGHT + timedelta(minutes=minutes)
            wobble = (7 * step + 3 * number) % 5 - 2
            count_in = share * 62 * math.exp(-(((minutes - 150) / 85) ** 2)) + 2 + wobble
            count_out = share * 58 * math.exp(-(((minutes - 270) / 70) ** 2)) + 1 - wobble
            records.append(
                {
                    "sensor": reference,
                    "observed_from": start.isoformat(),
                    "observed_to": (start + timedelta(minutes=5)).isoformat(),
                    "count_in": max(0, round(count_in)),
                    "count_out": max(0, round(count_out)),
                }
            )
    return records


@transaction.atomic
def load(organisations: dict[str, Organisation]) -> dict:
    city, melbourne_city = organisations["gemeente-voorbeeldstad"], organisations["city-of-melbourne"]
    as_city = Caller(roles={city.pk: Role.DATA_STEWARD})
    as_melbourne = Caller(roles={melbourne_city.pk: Role.DATA_STEWARD})

    active = Sensor.objects.filter(status=SensorStatus.ACTIVE)
    counts = services.dataset_register(
        caller=as_melbourne,
        owner=melbourne_city,
        schema_version=_latest("hourly-pedestrian-count"),
        # Removed sensors too: they counted in January 2011, and their counts of that time belong here.
        sensors=list(Sensor.objects.filter(controller=melbourne_city).exclude(status=SensorStatus.PROPOSED)),
        areas=list(Area.objects.filter(owner=melbourne_city)),
        title="Pedestrian counts, January 2011",
        description="Hourly pedestrian counts per sensor, both directions summed, from the City of Melbourne's "
        "Pedestrian Counting System (open data, CC BY 4.0).",
        contact_point="opendata@melbourne.example",
        themes=["TRAN", "SOCI"],
        keywords=["pedestrians", "footfall", "Melbourne"],
        update_frequency="HOURLY",
        quality_statement="As published by the city; empty cells are missing hours, not zero.",
        retention_days=36_500,
        access=AccessClassification.OPEN_AGGREGATE,
        status=DatasetStatus.ACTIVE,
    )
    register = melbourne.Register((sensor.reference, sensor.name) for sensor in counts.sensors.all())
    with MELBOURNE_COUNTS.open(encoding="utf-8", newline="") as stream:
        records = [record for _, record in melbourne.records(csv.reader(stream), register, melbourne.Report())]
    _ingest(as_melbourne, counts, records)

    lidars = list(active.filter(controller=city, reference__startswith="vbs-stratumseind-lidar").order_by("reference"))
    stratumseind = services.dataset_register(
        caller=as_city,
        owner=city,
        schema_version=_latest("crowd-count-line"),
        sensors=lidars,
        areas=list(Area.objects.filter(owner=city, name="Stratumseind")),
        title="Stratumseind passages",
        description="People entering and leaving Stratumseind, every five minutes, from two LiDAR counters.",
        contact_point="crowd@voorbeeldstad.example",
        themes=["SOCI", "JUST"],
        keywords=["nightlife", "crowd safety", "Stratumseind"],
        update_frequency="5MIN",
        retention_days=730,
        access=AccessClassification.SHARED_UNDER_GRANT,
        status=DatasetStatus.ACTIVE,
    )
    # Sent by the operator's gateway, as a vendor would: strict (one bad record would store nothing).
    services.records_ingest(
        caller=Caller(roles={lidars[0].operator_id: Role.INTEGRATOR}),
        dataset=stratumseind,
        body=orjson.dumps({"records": stratumseind_night([sensor.reference for sensor in lidars])}),
        content_type="application/json",
    )
    events = services.dataset_register(
        caller=as_city,
        owner=city,
        schema_version=_latest("event-calendar"),
        title="Event calendar Voorbeeldstad",
        description="Permitted events with their area and expected visitors.",
        contact_point="evenementen@voorbeeldstad.example",
        themes=["SOCI"],
        keywords=["events", "permits"],
        update_frequency="DAILY",
        retention_days=1825,
        access=AccessClassification.OPEN_AGGREGATE,
        status=DatasetStatus.ACTIVE,
    )
    festival = Area.objects.get(owner=city, name="Stadswandelpark festivalterrein")
    _ingest(
        as_city,
        events,
        [
            {"event_id": "stadsfestival-2026", "event_name": "Stadsfestival", "area_id": festival.pk,
             "observed_from": "2026-06-26T12:00:00+02:00", "observed_to": "2026-06-28T23:59:00+02:00",
             "expected_visitors": 60000, "category": "festival"},
        ],
    )  # fmt: skip

    # The dashboard's dataset: simulated, and saying so wherever it is listed.
    now = timezone.now()
    gates = [gate for area in demo_passages.AREAS for gate, _ in area.gates]
    passages = services.dataset_register(
        caller=as_city,
        owner=city,
        schema_version=_latest("crowd-count-line"),
        sensors=list(active.filter(controller=city, reference__in=gates).order_by("reference")),
        areas=list(Area.objects.filter(owner=city, name__in=[area.name for area in demo_passages.AREAS])),
        title="Centre passages (simulated)",
        description="SIMULATED DATA, not measured: made-up five-minute counts at the city centre's line counters "
        "(Stratumseind's two entrances and the station tunnel) for the last five weeks, from a weekday and hour "
        "profile with random variation (evenings busier on Friday and Saturday). The demo's open dashboard "
        "(/dashboard/) reads it.",
        contact_point="crowd@voorbeeldstad.example",
        themes=["SOCI", "TRAN"],
        keywords=["simulated", "crowd counts", "dashboard"],
        update_frequency="5MIN",
        quality_statement="Simulated by the demo (datasets/demo_passages.py); no person was counted.",
        retention_days=730,
        access=AccessClassification.OPEN_AGGREGATE,
        status=DatasetStatus.ACTIVE,
    )
    _ingest(as_city, passages, demo_passages.centre_passages(now), partial=False)
    _ingest(as_city, events, [coming_event(now, Area.objects.get(owner=city, name="Stratumseind"))], partial=False)
    return {
        "melbourne_counts": counts,
        "stratumseind": stratumseind,
        "event_calendar": events,
        "centre_passages": passages,
    }
