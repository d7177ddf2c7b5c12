"""Demo purposes and grants: one of each path through the guard, to try from the README and the guides.

- Voorbeeldstad collects Stratumseind's counts and its event calendar for `vbs-crowd-safety` (records
  and aggregates), plans events under `vbs-event-planning`, and withdrew `vbs-wifi-tracking-pilot`.
- The police read Stratumseind's aggregates under `politie-openbare-orde-stratumseind`: re-purposing,
  so the grant carries a compatibility assessment signed by the city's privacy officer.
- Melbourne collects its counts for `melbourne-pedestrian-planning` and `melbourne-open-statistics`,
  and opens the aggregates to anyone who declares the latter (anonymous researchers too).
- The Crowd Dynamics Lab holds `crowd-lab-flow-research`, approved but granted nothing (yet).
- Voorbeeldstad publishes how busy its centre is on the open dashboard (/dashboard/) under
  `vbs-open-dashboard`: its simulated centre passages were collected for it (an open grant), and its event
  calendar is re-purposed for it (an open grant with an assessment: the calendar holds no personal data).
"""

import secrets
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts import services as accounts_services
from accounts.demo import Credentials, env_name
from accounts.models import Organisation, Role
from accounts.selectors import Caller
from datasets.models import Dataset
from purposes import services
from purposes.models import AccessLevel, DpiaStatus, Purpose, PurposeCategory

AGGREGATE, RECORDS = AccessLevel.AGGREGATE, AccessLevel.RECORDS

WIFI_WITHDRAWAL = "The DPIA review found device tracking disproportionate; pilot ended."

# Organisations whose demo people are only an admin get a privacy officer too: somebody approves their
# purposes, by name.
EXTRA_PRIVACY_OFFICERS = ("politie-voorbeeldstad", "crowd-lab")

CROWD_SAFETY_KPIS = [
    {
        "name": "Counting accuracy against a manual count",
        "kind": "output",
        "scope": "technology",
        "unit": "%",
        "target": 95,
        "measurements": [
            {"at": "2026-03-14T23:00:00+01:00", "value": 96.5, "note": "Manual count at both entrances, 30 min."}
        ],
    },
    {
        "name": "Crowding alerts that reached the control room within 2 minutes",
        "kind": "output",
        "scope": "application",
        "unit": "%",
        "target": 99,
        "measurements": [],
    },
    {
        "name": "Time from a crowding alert to stewards on site",
        "kind": "outcome",
        "scope": "application",
        "unit": "minutes",
        "target": 5,
        "measurements": [{"at": "2026-06-27T04:00:00+02:00", "value": 6.5, "note": "Stadsfestival, first night."}],
    },
]

# Each purpose: holder slug, fields for purposes.services.purpose_create.
PURPOSES = [
    (
        "gemeente-voorbeeldstad",
        {
            "code": "vbs-crowd-safety",
            "title": "Crowd safety monitoring in the city centre",
            "decision": "Whether to send stewards, close an entrance or redirect visitors when a street or square "
            "gets too crowded. A person in the control room decides; the figures only signal.",
            "description": "Counts at the entrances of Stratumseind and the event calendar, watched live on busy "
            "nights and events, and compared with the street's local thresholds.",
            "category": PurposeCategory.CROWD_SAFETY,
            "legal_basis": "e",
            "national_basis": "Gemeentewet art. 172 (the mayor's duty to maintain public order) and art. 174 "
            "(supervision of public places).",
            "dpia_required": True,
            "dpia_reference": "DPIA-VBS-2025-03",
            "dpia_url": "https://voorbeeldstad.example/privacy/dpia-crowd-monitoring",
            "dpia_status": DpiaStatus.APPROVED,
            "dpia_summary": "Counting at a line with LiDAR; no images and no identifiers leave the sensor. Residual "
            "risk: small counts at quiet hours, mitigated by suppressing counts below 10.",
            "allowed_levels": [AGGREGATE, RECORDS],
            "k_threshold": 10,
            "kpis": CROWD_SAFETY_KPIS,
        },
    ),
    (
        "gemeente-voorbeeldstad",
        {
            "code": "vbs-event-planning",
            "title": "Planning permitted events",
            "decision": "Conditions of an event permit (capacity, entrances, stewards) from the crowds expected "
            "and those measured at earlier events.",
            "category": PurposeCategory.EVENT_PLANNING,
            "legal_basis": "e",
            "national_basis": "Gemeentewet art. 174 and the local bylaw (APV) on event permits.",
            "dpia_required": True,
            "dpia_reference": "DPIA-VBS-2025-03",
            "dpia_status": DpiaStatus.APPROVED,
            "allowed_levels": [AGGREGATE],
            "min_bucket_minutes": 60,
            "k_threshold": 10,
        },
    ),
    (
        "gemeente-voorbeeldstad",
        {
            "code": "vbs-wifi-tracking-pilot",
            "title": "Wifi presence pilot on the Markt",
            "decision": "Whether wifi presence counting adds enough to the cameras on the Markt to be used on "
            "market days.",
            "category": PurposeCategory.CROWD_SAFETY,
            "legal_basis": "e",
            "national_basis": "Gemeentewet art. 172.",
            "dpia_required": True,
            "dpia_reference": "DPIA-VBS-2025-07",
            "dpia_status": DpiaStatus.APPROVED,
            "allowed_levels": [AGGREGATE],
            "min_bucket_minutes": 60,
            "k_threshold": 10,
            "valid_from": datetime(2025, 6, 1, tzinfo=UTC),
        },
    ),
    (
        "gemeente-voorbeeldstad",
        {
            "code": "vbs-open-dashboard",
            "title": "Open dashboard of how busy the city centre is",
            "decision": "None by the city: residents and visitors see how busy the centre's streets and squares are "
            "now, against their usual level and the expected hours ahead, and choose when to go.",
            "description": "Counts per area (never per sensor) in buckets of at least 15 minutes, with small counts "
            "withheld, read by the public dashboard at /dashboard/ without an account.",
            "category": PurposeCategory.TRANSPARENCY,
            "legal_basis": "e",
            "national_basis": "Wet open overheid (Woo) art. 3.1: active publication of public information; "
            "Gemeentewet art. 172 (public order).",
            "dpia_required": False,
            "allowed_levels": [AGGREGATE],
            "min_bucket_minutes": 15,
            "area_only": True,
            "k_threshold": 10,
        },
    ),
    (
        "city-of-melbourne",
        {
            "code": "melbourne-pedestrian-planning",
            "title": "Pedestrian planning and evaluation of street changes",
            "decision": "Whether changes to footpaths, crossings and events in the city centre worked, from "
            "pedestrian volumes before and after.",
            "category": PurposeCategory.POLICY_EVALUATION,
            "legal_basis": "e",
            "national_basis": "Local Government Act 2020 (Victoria), s. 8: planning for the municipal district.",
            "dpia_required": True,
            "dpia_reference": "PIA-PCS-2009",
            "dpia_status": DpiaStatus.APPROVED,
            "dpia_summary": "Counters report totals per hour; no images are kept.",
            "allowed_levels": [AGGREGATE, RECORDS],
            "k_threshold": 10,
        },
    ),
    (
        "city-of-melbourne",
        {
            "code": "melbourne-open-statistics",
            "title": "Open pedestrian statistics",
            "decision": "None by the city: hourly totals are published for anyone's research and statistics.",
            "category": PurposeCategory.RESEARCH,
            "legal_basis": "e",
            "national_basis": "Open data policy of the City of Melbourne (CC BY 4.0).",
            "dpia_required": False,
            "allowed_levels": [AGGREGATE],
            "min_bucket_minutes": 60,
            "k_threshold": 10,
        },
    ),
    (
        "politie-voorbeeldstad",
        {
            "code": "politie-openbare-orde-stratumseind",
            "title": "Public order in Stratumseind",
            "decision": "How many officers to deploy in Stratumseind, and when, on nightlife nights.",
            "category": PurposeCategory.PUBLIC_ORDER,
            "legal_basis": "e",
            "national_basis": "Politiewet 2012 art. 3 (maintaining public order).",
            "dpia_required": True,
            "dpia_reference": "DPIA-POL-2026-02",
            "dpia_status": DpiaStatus.APPROVED,
            "allowed_levels": [AGGREGATE],
            "min_bucket_minutes": 15,
            "k_threshold": 10,
            "kpis": [
                {
                    "name": "Incidents of public violence in Stratumseind per nightlife night",
                    "kind": "outcome",
                    "scope": "application",
                    "unit": "incidents",
                    "target": 2,
                    "measurements": [],
                }
            ],
        },
    ),
    (
        "crowd-lab",
        {
            "code": "crowd-lab-flow-research",
            "title": "Pedestrian flow research",
            "decision": "None: scientific research into how crowds move through streets, published openly.",
            "category": PurposeCategory.RESEARCH,
            "legal_basis": "e",
            "national_basis": "Research as a public task of the university (WHW art. 1.3).",
            "dpia_required": True,
            "dpia_reference": "DPIA-LAB-2026-01",
            "dpia_status": DpiaStatus.APPROVED,
            "allowed_levels": [AGGREGATE],
            "min_bucket_minutes": 60,
            "k_threshold": 10,
        },
    ),
]

# The police's re-purposing: why counting for crowd safety may also serve public order (GDPR Art. 6(4)).
POLICE_ASSESSMENT = {
    "link_between_purposes": "Both serve safety in Stratumseind on nightlife nights, in the same street and "
    "hours: the city prevents dangerous crowding, the police keep public order there.",
    "context_of_collection": "Collected by the city as controller in the public space, with signs at both "
    "entrances and an entry in the public sensor register; visitors can expect the city and the police to "
    "work together on safety in the street.",
    "nature_of_data": "Counts of people passing two lines every five minutes. No images, no identifiers, no "
    "special categories of personal data: the LiDAR point clouds never leave the sensor.",
    "possible_consequences": "More or fewer officers in the street. No measure against a person can follow from "
    "counts; detailed counts at quiet hours could single out small groups.",
    "safeguards": "Aggregates only, in buckets of at least 15 minutes; cells of fewer than 10 people withheld; "
    "every access logged and visible to the city; valid for one year and revocable at once.",
    "conclusion": "Compatible, under these safeguards.",
}

# The event calendar on the open dashboard: re-purposing, though it holds no personal data.
DASHBOARD_CALENDAR_ASSESSMENT = {
    "link_between_purposes": "The calendar was kept to keep crowds safe and to plan events; the dashboard tells the "
    "public which events will make the centre busier, which serves the same safety.",
    "context_of_collection": "Events are permitted in public, and the permits are published by the city.",
    "nature_of_data": "No personal data: an event's name, area, times, category and the visitors its permit expects.",
    "possible_consequences": "Visitors may avoid, or seek out, the busy hours of an event.",
    "safeguards": "Aggregates only, through the forecast indicator; every access logged.",
    "conclusion": "Compatible.",
}


def _person(organisation: Organisation, role: str) -> Caller:
    """The demo's person with this role in the organisation, acting alone for it."""
    user = get_user_model().objects.get(username=f"{organisation.slug}-{role.replace('_', '-')}")
    return Caller(user=user, roles={organisation.pk: role})


def _privacy_officer(organisation: Organisation, credentials: Credentials | None) -> Caller:
    username = f"{organisation.slug}-privacy-officer"
    if not get_user_model().objects.filter(username=username).exists():
        password = secrets.token_urlsafe(12)
        user = accounts_services.user_create(username=username, password=password, email=f"{username}@demo.example")
        accounts_services.membership_set(user=user, organisation=organisation, role=Role.PRIVACY_OFFICER)
        if credentials is not None:
            credentials.add(
                env_name("password", username), password, f"{organisation.name}: person {username} (Privacy officer)"
            )
    return _person(organisation, Role.PRIVACY_OFFICER)


def _declarer(organisation: Organisation) -> Caller:
    """Municipalities declare through their data steward; the others through their admin."""
    for role in (Role.DATA_STEWARD, Role.ADMIN):
        if get_user_model().objects.filter(username=f"{organisation.slug}-{role.replace('_', '-')}").exists():
            return _person(organisation, role)
    raise LookupError(f"No demo person declares purposes for {organisation.slug}.")


def _link_collection_purposes(dataset: Dataset, purposes: list[Purpose]) -> None:
    """The demo's datasets were collected for these purposes from the start. They are linked after their
    records were loaded only because the datasets are loaded first; datasets.services.dataset_update rightly
    refuses to add a collection purpose to a dataset that holds records (that would be re-purposing)."""
    for purpose in purposes:
        if purpose.holder_id != dataset.owner_id:
            raise ValueError(f"{purpose.code} is not held by the owner of dataset {dataset.pk}.")
    dataset.collection_purposes.set(purposes)


@transaction.atomic
def load(
    organisations: dict[str, Organisation], datasets: dict[str, Dataset], credentials: Credentials | None = None
) -> dict:
    officers = {slug: _privacy_officer(organisations[slug], credentials) for slug in EXTRA_PRIVACY_OFFICERS}
    purposes: dict[str, Purpose] = {}
    for slug, fields in PURPOSES:
        holder = organisations[slug]
        declared = {name: value for name, value in fields.items() if name != "dpia_status"}
        purpose = services.purpose_create(caller=_declarer(holder), holder=holder, **declared)
        officer = officers.get(slug) or _person(holder, Role.PRIVACY_OFFICER)
        if fields.get("dpia_status", purpose.dpia_status) != purpose.dpia_status:
            # The privacy officer records the DPIA's outcome, then approves.
            purpose = services.purpose_update(caller=officer, purpose=purpose, dpia_status=fields["dpia_status"])
        purposes[purpose.code] = services.purpose_approve(caller=officer, purpose=purpose)
    city_officer = _person(organisations["gemeente-voorbeeldstad"], Role.PRIVACY_OFFICER)
    purposes["vbs-wifi-tracking-pilot"] = services.purpose_withdraw(
        caller=city_officer, purpose=purposes["vbs-wifi-tracking-pilot"], reason=WIFI_WITHDRAWAL
    )

    stratumseind, events = datasets["stratumseind"], datasets["event_calendar"]
    melbourne_counts = datasets["melbourne_counts"]
    _link_collection_purposes(stratumseind, [purposes["vbs-crowd-safety"]])
    _link_collection_purposes(events, [purposes["vbs-crowd-safety"], purposes["vbs-event-planning"]])
    _link_collection_purposes(
        melbourne_counts, [purposes["melbourne-pedestrian-planning"], purposes["melbourne-open-statistics"]]
    )

    open_grant = services.grant_create(
        caller=_person(organisations["city-of-melbourne"], Role.DATA_STEWARD),
        dataset=melbourne_counts,
        purpose=purposes["melbourne-open-statistics"],
        grantee=None,
        level=AGGREGATE,
        min_bucket_minutes=60,
        k_threshold=10,
        note="Open data: hourly totals for anyone's research and statistics (CC BY 4.0).",
    )

    police = purposes["politie-openbare-orde-stratumseind"]
    assessment = services.assessment_create(
        caller=city_officer, dataset=stratumseind, purpose=police, **POLICE_ASSESSMENT
    )
    police_grant = services.grant_create(
        caller=_person(organisations["gemeente-voorbeeldstad"], Role.DATA_STEWARD),
        dataset=stratumseind,
        purpose=police,
        grantee=organisations["politie-voorbeeldstad"],
        level=AGGREGATE,
        assessment=assessment,
        min_bucket_minutes=15,
        k_threshold=10,
        valid_until=timezone.now() + timedelta(days=365),
        note="Agreed in the nightlife safety covenant (convenant veilig uitgaan) 2026.",
    )
    dashboard = _open_dashboard(organisations["gemeente-voorbeeldstad"], datasets, purposes)
    return {
        "purposes": purposes,
        "open_grant": open_grant,
        "police_grant": police_grant,
        "assessment": assessment,
        **dashboard,
    }


def _open_dashboard(city: Organisation, datasets: dict[str, Dataset], purposes: dict[str, Purpose]) -> dict:
    """Open grants for the dashboard: the simulated passages (collected for it) and the event calendar."""
    passages, events = datasets["centre_passages"], datasets["event_calendar"]
    dashboard = purposes["vbs-open-dashboard"]
    _link_collection_purposes(passages, [purposes["vbs-crowd-safety"], dashboard])
    steward = _person(city, Role.DATA_STEWARD)
    passages_grant = services.grant_create(
        caller=steward,
        dataset=passages,
        purpose=dashboard,
        grantee=None,
        level=AGGREGATE,
        min_bucket_minutes=15,
        area_only=True,
        k_threshold=10,
        note="Open: how busy the centre is, per area, on the public dashboard.",
    )
    calendar_assessment = services.assessment_create(
        caller=_person(city, Role.PRIVACY_OFFICER), dataset=events, purpose=dashboard, **DASHBOARD_CALENDAR_ASSESSMENT
    )
    calendar_grant = services.grant_create(
        caller=steward,
        dataset=events,
        purpose=dashboard,
        grantee=None,
        level=AGGREGATE,
        assessment=calendar_assessment,
        min_bucket_minutes=15,
        k_threshold=10,
        note="Open: the coming events in the dashboard's forecast.",
    )
    return {"dashboard_grants": [passages_grant, calendar_grant], "dashboard_assessment": calendar_assessment}
