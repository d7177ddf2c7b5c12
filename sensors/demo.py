"""Demo sensors: Melbourne's real sensor register, and a Dutch example city with areas and sensors."""

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction

from accounts.models import Organisation, Role
from accounts.selectors import Caller
from sensors import importers, selectors, services
from sensors.models import AreaType, Measure, SensorEvent, SensorType

MELBOURNE_CSV = Path(__file__).parent / "demo_data" / "melbourne-sensor-locations.csv"
AMSTERDAM_TIME = ZoneInfo("Europe/Amsterdam")


def rectangle(west: float, south: float, east: float, north: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
    }


# Gemeente Voorbeeldstad is an example city; its areas are laid out in a Dutch city centre.
AREAS = [
    ("Markt", AreaType.SQUARE, rectangle(5.4772, 51.4374, 5.4791, 51.4386), {"capacity": 4000}),
    (
        "Stratumseind",
        AreaType.WALKWAY,
        rectangle(5.4806, 51.4350, 5.4812, 51.4372),
        {"effective_width_m": 12.0, "surface_m2_override": 2600.0},
    ),
    ("Stationsplein", AreaType.SQUARE, rectangle(5.4782, 51.4420, 5.4805, 51.4432), {}),
    (
        "Stadswandelpark festivalterrein",
        AreaType.VENUE,
        rectangle(5.4790, 51.4270, 5.4840, 51.4300),
        {"capacity": 15000},
    ),
]

# Melbourne's CBD: a few places around the streets its counters stand in, whose sensors are proposed from
# the polygon (GET /api/v1/areas/{id}/sensors-inside/) and placed there since their installation.
MELBOURNE_AREAS = [
    ("Bourke Street Mall", AreaType.WALKWAY, rectangle(144.9645, -37.8140, 144.9675, -37.8131)),
    ("Swanston Street, Town Hall to Flinders Lane", AreaType.WALKWAY,
     rectangle(144.9654, -37.8170, 144.9675, -37.8146)),
    ("Flinders Street Station", AreaType.SQUARE, rectangle(144.9645, -37.8195, 144.9690, -37.8171)),
    ("Melbourne Central and State Library", AreaType.SQUARE, rectangle(144.9635, -37.8115, 144.9650, -37.8100)),
    ("Southern Cross Station", AreaType.SQUARE, rectangle(144.9505, -37.8200, 144.9550, -37.8185)),
]  # fmt: skip

# The demo's moved sensor: the station tunnel's counter stood on the Markt first (Voorbeeldstad is made up).
MOVED_SENSOR = "vbs-station-thermal-01"
MOVED_AT = datetime(2026, 1, 12, 6, tzinfo=AMSTERDAM_TIME)

THRESHOLDS = {
    "default": {"busy": 1.0, "crowded": 2.0, "critical": 3.5},
    "weekly": [
        {"weekday": 4, "hour": 23, "busy": 1.5, "crowded": 2.5, "critical": 3.5},
        {"weekday": 5, "hour": 23, "busy": 1.5, "crowded": 2.5, "critical": 3.5},
    ],
}

VENUE_THRESHOLDS = {"default": {"busy": 2.0, "crowded": 3.0, "critical": 4.5}}

PRIVACY_FRIENDLY = {
    "personal_data_at_edge": False,
    "raw_data_retention_hours": 0,
    "identifiers_kept": "none",
    "legal_basis": "GDPR Art. 6(1)(e), public task: Gemeentewet art. 172 (public order)",
    "contact_email": "crowd@voorbeeldstad.example",
}


def sensor(reference, name, type_code, area, lon, lat, measures, status="active", **extra):
    return {
        "reference": reference,
        "name": name,
        "type_code": type_code,
        "area": area,
        "location": (lon, lat),
        "measures": measures,
        "status": status,
        "extra": extra,
    }


SENSORS = [
    sensor(
        "vbs-markt-cam-01", "Markt, north side", "counting-camera", "Markt", 5.4781, 51.4384, [Measure.OCCUPANCY],
        personal_data_at_edge=True,
        anonymisation_method="Images are turned into counts in the camera and deleted at once.",
    ),
    sensor(
        "vbs-stratumseind-lidar-01", "Stratumseind, north entrance", "lidar-counter", "Stratumseind",
        5.4809, 51.4370, [Measure.COUNT_AT_LINE],
    ),
    sensor(
        "vbs-stratumseind-lidar-02", "Stratumseind, south entrance", "lidar-counter", "Stratumseind",
        5.4809, 51.4352, [Measure.COUNT_AT_LINE],
    ),
    sensor(
        "vbs-stratumseind-sound-01", "Stratumseind, sound levels", "acoustic-anomaly-sensor", "Stratumseind",
        5.4810, 51.4361, [Measure.SOUND_LEVEL],
        anonymisation_method="Levels and anomaly classes only; no audio leaves the device.",
    ),
    sensor(
        "vbs-station-thermal-01", "Station tunnel", "thermal-counter", "Stationsplein",
        5.4793, 51.4425, [Measure.COUNT_AT_LINE, Measure.FLOW],
    ),
    sensor(
        "vbs-festival-radar-01", "Festival grounds, main gate", "radar", "Stadswandelpark festivalterrein",
        5.4800, 51.4285, [Measure.FLOW, Measure.DENSITY],
    ),
    sensor(
        "vbs-markt-wifi-01", "Markt, wifi presence", "wifi-counter", "Markt", 5.4776, 51.4378, [Measure.OCCUPANCY],
        status="proposed",
        personal_data_at_edge=True,
        identifiers_kept="rotating",
        raw_data_retention_hours=24,
        anonymisation_method="Device identifiers are hashed with a salt that changes daily.",
    ),
    sensor(
        "vbs-stratumseind-cam-02", "Stratumseind, camera for the police", "counting-camera", "Stratumseind",
        5.4808, 51.4358, [Measure.GROUPS, Measure.DENSITY],
        visibility="restricted",
        restriction_reason="Location withheld at the police's request (modus operandi).",
        personal_data_at_edge=True,
    ),
]  # fmt: skip

FESTIVAL_PERIODS = [
    {
        "starts_at": datetime(2026, 6, 26, 12, tzinfo=AMSTERDAM_TIME),
        "ends_at": datetime(2026, 6, 28, 23, 59, tzinfo=AMSTERDAM_TIME),
        "label": "Stadsfestival 2026",
    },
    {
        "starts_at": datetime(2027, 6, 25, 12, tzinfo=AMSTERDAM_TIME),
        "ends_at": datetime(2027, 6, 27, 23, 59, tzinfo=AMSTERDAM_TIME),
        "label": "Stadsfestival 2027",
    },
]


@transaction.atomic
def load(organisations: dict[str, Organisation]) -> None:
    city = organisations["gemeente-voorbeeldstad"]
    vendor = organisations["telvision"]
    melbourne = organisations["city-of-melbourne"]
    # The demo acts as the people who would do this: the vendor's integrator, the city's steward.
    as_vendor = Caller(roles={vendor.pk: Role.INTEGRATOR})
    as_city = Caller(roles={city.pk: Role.DATA_STEWARD})
    as_melbourne = Caller(roles={melbourne.pk: Role.DATA_STEWARD})

    areas = {}
    for name, area_type, geometry, extra in AREAS:
        thresholds = (
            THRESHOLDS if area_type != AreaType.VENUE else {"default": {"busy": 2.0, "crowded": 3.0, "critical": 4.5}}
        )
        areas[name] = services.area_create(
            caller=as_city,
            owner=city,
            name=name,
            area_type=area_type,
            geometry=geometry,
            thresholds=thresholds,
            **extra,
        )

    types = {t.code: t for t in SensorType.objects.all()}
    for spec in SENSORS:
        sensor_type = types[spec["type_code"]]
        lon, lat = spec["location"]
        registered = services.sensor_register(
            caller=as_vendor,
            controller=city,
            operator=vendor,
            sensor_type=sensor_type,
            reference=spec["reference"],
            name=spec["name"],
            description=f"{sensor_type.name_en} operated by {vendor.name} for {city.name}.",
            latitude=lat,
            longitude=lon,
            area=areas[spec["area"]],
            measures=spec["measures"],
            installed_at=datetime(2025, 3, 1, tzinfo=UTC),
            active_periods=FESTIVAL_PERIODS if spec["type_code"] == "radar" else None,
            **{**PRIVACY_FRIENDLY, **spec["extra"]},
        )
        if spec["status"] == "active":
            services.sensor_transition(caller=as_city, sensor=registered, action=SensorEvent.Action.CONFIRMED)
        if spec["reference"] == MOVED_SENSOR:
            services.sensor_placements_set(
                caller=as_city,
                sensor=registered,
                placements=[
                    {"area": areas["Markt"], "starts_at": registered.installed_at, "ends_at": MOVED_AT},
                    {"area": areas[spec["area"]], "starts_at": MOVED_AT},
                ],
                note="Moved from the Markt to the station tunnel.",
            )

    importers.sensors_import(
        caller=as_melbourne,
        text=MELBOURNE_CSV.read_text(encoding="utf-8"),
        mapping="melbourne",
        controller=melbourne,
        operator=melbourne,
        sensor_type="counting-camera",
    )
    for name, area_type, geometry in MELBOURNE_AREAS:
        area = services.area_create(
            caller=as_melbourne, owner=melbourne, name=name, area_type=area_type, geometry=geometry
        )
        inside = [s for s in selectors.sensors_inside_area(area=area, caller=as_melbourne) if s.placed == "nowhere"]
        services.area_place_sensors(caller=as_melbourne, area=area, sensors=inside)
