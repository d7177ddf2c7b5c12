"""Reads for the public pages: the dashboard (the public purpose it reads under, and what that purpose opens) and
the catalogue for researchers (what a dataset offers, where and when, and under which purposes it may be read)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import Organisation
from accounts.selectors import ANONYMOUS
from datasets.indicators import definitions, values
from datasets.models import Dataset, SchemaVersion, StandardSchema, Theme
from datasets.selectors import (
    BUCKETS,
    bucket_finer_than_data,
    bucket_start,
    dataset_months,
    dataset_places,
    public_datasets,
)
from purposes.decisions import Conditions
from purposes.models import AccessLevel, Grant, Purpose
from purposes.selectors import access_stats_public, in_force_q, live_grant_q
from purposes.services import access_conditions
from sensors.models import Area, Sensor

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


# The catalogue -------------------------------------------------------------------------------------


def catalogue_datasets() -> QuerySet[Dataset]:
    """The catalogue's datasets in the order the page lists them."""
    return public_datasets().order_by("title", "pk")


@dataclass(frozen=True)
class CatalogueFacets:
    """What the catalogue's search offers to choose from: only what some catalogue dataset has."""

    themes: list[tuple[str, str]]  # (code, label)
    organisations: list[Organisation]
    schemas: list[StandardSchema]
    areas: list[Area]


def catalogue_facets() -> CatalogueFacets:
    catalogue = public_datasets()
    used = {theme for themes in catalogue.values_list("themes", flat=True) for theme in themes or ()}
    themes = sorted(((code, label) for code, label in Theme.choices if code in used), key=lambda choice: choice[1])
    return CatalogueFacets(
        themes=themes,
        organisations=list(Organisation.objects.filter(datasets__in=catalogue).distinct().order_by("name")),
        schemas=list(StandardSchema.objects.filter(versions__datasets__in=catalogue).distinct().order_by("title")),
        # The areas a dataset publishes: its owner's own (datasets.selectors.dataset_places).
        areas=list(
            Area.objects.filter(datasets__in=catalogue, datasets__owner_id=F("owner_id"))
            .select_related("owner")
            .distinct()
            .order_by("name", "pk")
        ),
    )


@dataclass(frozen=True)
class DatasetUse:
    """One way a catalogue dataset may be read now: an open grant (anyone, no account), a grant to an
    organisation, or a purpose its owner collects it for. The conditions are what a request meets: the strictest
    of the purpose's rules and the grant's (purposes.services.access_conditions)."""

    purpose: Purpose
    grant: Grant | None
    level: str
    conditions: Conditions

    @property
    def is_open(self) -> bool:
        return self.grant is not None and self.grant.grantee_id is None

    @property
    def reader(self) -> Organisation | None:
        """Who may read under it: the grantee, or the owner for its own purposes; None for anyone."""
        if self.grant is None:
            return self.purpose.holder
        return self.grant.grantee


def dataset_uses(dataset: Dataset, *, at: datetime | None = None) -> list[DatasetUse]:
    """Open grants first, then grants to organisations, then the owner's own purposes; by purpose code in each.
    Only purposes in force and grants live now: a draft purpose or a revoked, expired or future grant is no use."""
    at = at or timezone.now()
    in_force = Purpose.objects.filter(in_force_q(at))
    grants = (
        Grant.objects.filter(live_grant_q(at), dataset=dataset, purpose__in=in_force)
        .select_related("purpose__holder", "grantee")
        .order_by("purpose__code", "pk")
    )
    uses = [DatasetUse(grant.purpose, grant, grant.level, access_conditions(grant.purpose, grant)) for grant in grants]
    opened = {use.purpose.pk for use in uses if use.is_open}
    for purpose in dataset.collection_purposes.filter(in_force_q(at)).select_related("holder").order_by("code"):
        level = AccessLevel.RECORDS if AccessLevel.RECORDS in purpose.allowed_levels else AccessLevel.AGGREGATE
        if level == AccessLevel.AGGREGATE and purpose.pk in opened:
            continue  # listed with its open grant: at this level the owner reads what anyone may
        uses.append(DatasetUse(purpose, None, level, access_conditions(purpose, None)))
    return sorted(uses, key=lambda use: 0 if use.is_open else 1 if use.grant else 2)


@dataclass(frozen=True)
class ExampleRequest:
    """A request that a use allows and that answers with data: the counts of the dataset's last day of data (a
    week for days) in the finest bucket the conditions and the data allow; for an event calendar, the forecast
    of a dataset of counts read under the same terms, with the calendar's events added."""

    url_name: str
    url_kwargs: dict
    params: dict
    purpose_code: str
    needs_key: bool
    forecast_of: Dataset | None = None  # the dataset of counts whose forecast a calendar's example reads


# At most this many cells in an example's answer (the counts API answers at most 10,000).
EXAMPLE_CELLS = 5000


def _finest(dataset: Dataset, *uses: DatasetUse) -> tuple[str, int] | None:
    """The finest counts bucket (name, minutes) the uses' conditions and the dataset's data allow."""
    least = max(use.conditions.min_bucket_minutes for use in uses)
    buckets = sorted(BUCKETS.items(), key=lambda item: item[1])
    return next(
        ((name, length) for name, length in buckets if length >= least and not bucket_finer_than_data(dataset, length)),
        None,
    )


def example_request(dataset: Dataset, use: DatasetUse, *, places: int) -> ExampleRequest | None:
    """None when there is nothing to show: the conditions allow no bucket the API has (a minimum of more than
    a day), or a calendar has no dataset of counts under the same terms. `places`: how many sensors (or areas,
    per area) the counts have cells for."""
    if dataset.schema_version.subject == SchemaVersion.Subject.EVENT:
        return _forecast_request(dataset, use)
    finest = _finest(dataset, use)
    if finest is None:
        return None
    bucket, length = finest
    params = {"dataset": dataset.pk, "bucket": bucket}
    if use.conditions.area_only:
        params["by"] = "area"
    if dataset.coverage_to is not None:
        step = timedelta(minutes=length)
        end = bucket_start(dataset.coverage_to - timedelta(microseconds=1), length) + step  # UTC edges
        cells = max(1, min(7 if bucket == "day" else 24 * 60 // length, EXAMPLE_CELLS // max(places, 1)))
        start = max(end - cells * step, bucket_start(dataset.coverage_from, length))
        params["from"], params["to"] = (moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in (start, end))
    return ExampleRequest("datasets-api:count-list", {}, params, use.purpose.code, needs_key=not use.is_open)


# The forecast's bucket per counts bucket: the indicators' name for the same length.
FORECAST_BUCKETS = {
    name: next(bucket for bucket, minutes in values.BUCKET_MINUTES.items() if minutes == length)
    for name, length in BUCKETS.items()
}


def _forecast_request(calendar: Dataset, use: DatasetUse) -> ExampleRequest | None:
    """The forecast of the first catalogue dataset of counts readable on the same terms as the calendar (the
    same purpose, and an open grant for an open one, a grant to the same organisation, or the same owner's
    collection), with the calendar's events."""
    at = timezone.now()
    live = Grant.objects.filter(live_grant_q(at), purpose=use.purpose, grantee=use.reader)
    same = Q(grants__in=live) if use.grant is not None else Q(collection_purposes=use.purpose, owner=calendar.owner_id)
    forecast = definitions.INDICATORS["forecast"]
    for counts in public_datasets().filter(same).exclude(pk=calendar.pk).distinct().order_by("pk"):
        try:
            values.check_applicable(forecast, counts.schema_version, "area")
        except values.NotApplicable:
            continue
        grant = live.filter(dataset=counts).first() if use.grant is not None else None
        terms = DatasetUse(use.purpose, grant, use.level, access_conditions(use.purpose, grant))
        finest = _finest(counts, use, terms)
        if not counts.areas.exists() or finest is None:
            continue
        params = {"dataset": counts.pk, "events": calendar.pk, "bucket": FORECAST_BUCKETS[finest[0]]}
        return ExampleRequest(
            "datasets-api:indicator-values",
            {"code": forecast.code},
            params,
            use.purpose.code,
            needs_key=not use.is_open,
            forecast_of=counts,
        )
    return None


@dataclass(frozen=True)
class DatasetCoverage:
    """Where a catalogue dataset's data comes from (what is public: datasets.selectors.dataset_places) and when."""

    areas: list[Area]
    sensors: list[Sensor]
    bbox: list[float] | None
    months: list[dict]  # {month, records, sensors, completeness}: datasets.selectors.dataset_months


def dataset_coverage(dataset: Dataset) -> DatasetCoverage:
    places = dataset_places(dataset, caller=ANONYMOUS)
    areas = sorted((a for a in dataset.areas.all() if a.pk in places.area_ids), key=lambda a: (a.name, a.pk))
    sensors = sorted((s for s in dataset.sensors.all() if s.pk in places.sensor_ids), key=lambda s: (s.name, s.pk))
    return DatasetCoverage(areas=areas, sensors=sensors, bbox=places.bbox, months=dataset_months(dataset))


def dataset_indicators(dataset: Dataset, *, per_area: bool) -> list[tuple[definitions.Indicator, list[str]]]:
    """The indicators the dataset's schema gives, each with the scopes it is given in (area only when the
    dataset has areas)."""
    found = []
    for indicator in definitions.INDICATORS.values():
        scopes = []
        for scope in ("area", "sensor"):
            if scope == "area" and not per_area:
                continue
            try:
                values.check_applicable(indicator, dataset.schema_version, scope)
            except values.NotApplicable:
                continue
            scopes.append(scope)
        if scopes:
            found.append((indicator, scopes))
    return found


def dataset_access_stats(dataset: Dataset) -> list[dict]:
    """The public access statistics (purposes.selectors.access_stats_public) of one dataset, newest month first."""
    rows = access_stats_public(dataset_id=dataset.pk)
    return sorted(rows, key=lambda row: (row["month"], row["purpose"]), reverse=True)
