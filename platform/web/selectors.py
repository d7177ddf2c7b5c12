"""Reads for the public pages' dashboard: the public purpose it reads under, and what that purpose opens."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from datasets.indicators import definitions, values
from datasets.models import Dataset
from datasets.selectors import public_datasets
from purposes.models import AccessLevel, Grant, Purpose
from purposes.selectors import in_force_q, live_grant_q

# What the dashboard shows of an area: its crowding level now, busyness against its own usual, the counts and
# the forecast. A dataset is shown when it gives all four per area.
DASHBOARD_INDICATORS = ("crowding-level", "busyness", "count", "forecast")
EVENT_CALENDAR = "event-calendar"


@dataclass(frozen=True)
class Dashboard:
    """The public purpose the dashboard reads under, the counts it shows, and the calendar its forecast adds."""

    purpose: Purpose
    counts: Dataset | None
    calendar: Dataset | None


def _shows(dataset: Dataset) -> bool:
    for code in DASHBOARD_INDICATORS:
        try:
            values.check_applicable(definitions.INDICATORS[code], dataset.schema_version, "area")
        except values.NotApplicable:
            return False
    return dataset.areas.exists()


def dashboard_sources(*, purpose_code: str, at: datetime | None = None) -> Dashboard | None:
    """The purpose when it is in force, with the catalogue datasets it opens to anyone (an open `aggregate`
    grant, live now): the first (by id) that gives every dashboard indicator per area, and the first event
    calendar. None when no such purpose is in force."""
    at = at or timezone.now()
    purpose = Purpose.objects.filter(in_force_q(at), code=purpose_code).select_related("holder").first()
    if purpose is None:
        return None
    opened = (
        Grant.objects.filter(live_grant_q(at), purpose=purpose, grantee__isnull=True, level=AccessLevel.AGGREGATE)
        .filter(dataset__in=public_datasets())
        .select_related("dataset__schema_version__schema")
        .order_by("dataset_id")
    )
    datasets = [grant.dataset for grant in opened]
    calendars = [dataset for dataset in datasets if dataset.schema_version.schema.code == EVENT_CALENDAR]
    counts = [dataset for dataset in datasets if dataset not in calendars and _shows(dataset)]
    return Dashboard(purpose, counts[0] if counts else None, calendars[0] if calendars else None)
