"""Reads for purpose binding: purposes in force, grants, who sees which access events, public figures, Art. 30."""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import Organisation
from accounts.selectors import Caller
from datasets.models import Dataset, DatasetStatus
from datasets.selectors import public_datasets
from purposes.models import (
    DPIA_CLEARED,
    AccessEvent,
    AccessEventDataset,
    CompatibilityAssessment,
    Grant,
    Purpose,
    PurposeStatus,
)


def in_force_q(at: datetime) -> Q:
    """The database form of Purpose.in_force_at."""
    return (
        Q(status=PurposeStatus.APPROVED)
        & DPIA_CLEARED
        & Q(valid_from__lte=at)
        & (Q(valid_until__isnull=True) | Q(valid_until__gt=at))
    )


def live_grant_q(at: datetime, prefix: str = "") -> Q:
    return Q(**{f"{prefix}revoked_at__isnull": True, f"{prefix}valid_from__lte": at}) & (
        Q(**{f"{prefix}valid_until__isnull": True}) | Q(**{f"{prefix}valid_until__gt": at})
    )


def purposes_nameable(*, caller: Caller, at: datetime | None = None) -> QuerySet[Purpose]:
    """Purposes a caller may name in a grant or an assessment: its organisations' own, and every purpose in
    force (public in /public/purposes/). Another organisation's draft or withdrawn purpose is unknown."""
    return Purpose.objects.filter(Q(holder_id__in=caller.organisation_ids) | in_force_q(at or timezone.now()))


def purposes_held(*, caller: Caller) -> QuerySet[Purpose]:
    """The purposes of the caller's organisations: what a dataset may be collected for."""
    return Purpose.objects.filter(holder_id__in=caller.organisation_ids)


def grantees_nameable(*, caller: Caller, at: datetime | None = None) -> QuerySet[Organisation]:
    """Organisations a grant may name: holders of a purpose the caller may name (a grantee must hold the
    grant's purpose), and the caller's own."""
    holders = Purpose.objects.filter(in_force_q(at or timezone.now())).values("holder_id")
    return Organisation.objects.filter(Q(pk__in=caller.organisation_ids) | Q(pk__in=holders))


def datasets_owned_with(*, caller: Caller, roles) -> QuerySet[Dataset]:
    """Datasets of the organisations in which the caller holds one of `roles`."""
    return Dataset.objects.filter(owner_id__in=caller.organisations_with(roles))


def assessments_owned_with(*, caller: Caller, roles) -> QuerySet[CompatibilityAssessment]:
    """Assessments of the datasets of the organisations in which the caller holds one of `roles`."""
    return CompatibilityAssessment.objects.filter(dataset__owner_id__in=caller.organisations_with(roles))


def purpose_datasets(*, purposes, at: datetime | None = None) -> dict[int, list[Dataset]]:
    """For each purpose, the catalogue datasets it may use: collected for it, or granted to it now."""
    at = at or timezone.now()
    ids = [purpose.pk for purpose in purposes]
    found: dict[int, dict[int, Dataset]] = {pk: {} for pk in ids}
    catalogue = public_datasets()
    for dataset in catalogue.filter(collection_purposes__in=ids).prefetch_related("collection_purposes"):
        for purpose in dataset.collection_purposes.all():
            if purpose.pk in found:
                found[purpose.pk][dataset.pk] = dataset
    grants = Grant.objects.filter(live_grant_q(at), purpose_id__in=ids, dataset__in=catalogue).select_related("dataset")
    for grant in grants:
        found[grant.purpose_id][grant.dataset_id] = grant.dataset
    return {pk: sorted(datasets.values(), key=lambda d: d.pk) for pk, datasets in found.items()}


def sensor_purposes(*, sensor_ids, at: datetime | None = None) -> dict[int, list[Purpose]]:
    """The purposes in force that data of each sensor serves, through the datasets it feeds."""
    at = at or timezone.now()
    in_force = Purpose.objects.filter(in_force_q(at)).select_related("holder")
    by_sensor: dict[int, dict[int, Purpose]] = {pk: {} for pk in sensor_ids}
    collected = Dataset.sensors.through.objects.filter(sensor_id__in=sensor_ids).values_list("sensor_id", "dataset_id")
    dataset_sensors: dict[int, set[int]] = {}
    for sensor_id, dataset_id in collected:
        dataset_sensors.setdefault(dataset_id, set()).add(sensor_id)
    purposes = {purpose.pk: purpose for purpose in in_force.filter(Q(collected_datasets__in=dataset_sensors) | Q(
        grants__in=Grant.objects.filter(live_grant_q(at), dataset_id__in=dataset_sensors)
    )).distinct()}  # fmt: skip
    links = list(
        Dataset.collection_purposes.through.objects.filter(
            dataset_id__in=dataset_sensors, purpose_id__in=purposes
        ).values_list("dataset_id", "purpose_id")
    )
    links += list(
        Grant.objects.filter(live_grant_q(at), dataset_id__in=dataset_sensors, purpose_id__in=purposes).values_list(
            "dataset_id", "purpose_id"
        )
    )
    for dataset_id, purpose_id in links:
        for sensor_id in dataset_sensors.get(dataset_id, ()):
            by_sensor[sensor_id][purpose_id] = purposes[purpose_id]
    return {pk: sorted(found.values(), key=lambda p: p.code) for pk, found in by_sensor.items()}


def access_events_visible(*, caller: Caller, owner_roles, officer_roles) -> QuerySet[AccessEvent]:
    """Events an owner sees (accesses to its datasets) and a privacy officer sees (under its purposes)."""
    owners, officers = caller.organisations_with(owner_roles), caller.organisations_with(officer_roles)
    touched = AccessEventDataset.objects.filter(owner_id__in=owners).values("event_id")
    return AccessEvent.objects.filter(Q(pk__in=touched) | Q(purpose_holder_id__in=officers))


NOT_PUBLIC = "(not public)"


def public_purpose_code() -> Callable[[str], str]:
    """How public statistics name the purpose an access declared: by its code if the purpose was made public
    (approved, with its DPIA where one is required, and perhaps withdrawn since), else NOT_PUBLIC: never what a
    caller typed, nor another organisation's draft."""
    public = set(
        Purpose.objects.filter(DPIA_CLEARED, status__in=[PurposeStatus.APPROVED, PurposeStatus.WITHDRAWN]).values_list(
            "code", flat=True
        )
    )
    return lambda code: code if code in public else NOT_PUBLIC


def _monthly_tally(rows, *, per: dict[str, str] | None = None) -> list[dict]:
    """Access events counted per month (and the `per` fields: {name in the entry: field in the row}) and purpose,
    allowed and refused, from rows of `month`, those fields, `purpose_code`, `decision` and `events`. The purpose
    is named as the public may see it (public_purpose_code), so codes that are not public add up."""
    per = per or {}
    shown = public_purpose_code()
    stats: dict[tuple, dict] = {}
    for row in rows:
        code = shown(row["purpose_code"])
        key = (row["month"], *(row[field] for field in per.values()), code)
        entry = stats.setdefault(
            key,
            {
                "month": row["month"].strftime("%Y-%m"),
                **{name: row[field] for name, field in per.items()},
                "purpose": code,
                "allowed": 0,
                "refused": 0,
            },
        )
        entry[row["decision"]] += row["events"]
    return list(stats.values())


def access_stats_public(*, dataset_id: int | None = None) -> list[dict]:
    """Monthly counts of access events per catalogue dataset and purpose: no identities. All the catalogue's,
    or one dataset's (its catalogue page)."""
    catalogue = public_datasets() if dataset_id is None else public_datasets().filter(pk=dataset_id)
    catalogue = list(catalogue.values_list("pk", flat=True))
    rows = (
        AccessEventDataset.objects.filter(dataset_id__in=catalogue)
        .annotate(month=TruncMonth("at"))
        .values("month", "dataset_id", purpose_code=F("event__purpose_code"), decision=F("event__decision"))
        .annotate(events=Count("id"))
        .order_by("month", "dataset_id", "purpose_code", "decision")
    )
    return _monthly_tally(rows, per={"dataset": "dataset_id"})


def sensor_access_stats(*, sensor_id: int, months: int = 12, at: datetime | None = None) -> list[dict]:
    """How often the sensor's data was asked for, per month (the last `months`, this one included) and declared
    purpose: the requests, allowed and refused, that read a dataset holding its data (per dataset, not per sensor:
    a request counts once however many of them it read, and whether or not it read this sensor's records; drafts are
    left out). Months in order, then purposes; purposes not made public are named NOT_PUBLIC (public_purpose_code)."""
    at = timezone.localtime(at or timezone.now())
    first = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    # Not a draft's: a dataset not yet published is nobody's business but its owner's (restricted ones count: the
    # register tells citizens how often their sensor's data is read, whoever reads it).
    datasets = Dataset.objects.filter(sensors=sensor_id).exclude(status=DatasetStatus.DRAFT).values("pk")
    events = AccessEventDataset.objects.filter(dataset_id__in=datasets, at__gte=first, at__lte=at).values("event_id")
    rows = (
        AccessEvent.objects.filter(pk__in=events)
        .annotate(month=TruncMonth("at"))
        .values("month", "purpose_code", "decision")
        .annotate(events=Count("id"))
        .order_by("month", "purpose_code", "decision")
    )
    stats = _monthly_tally(rows)
    return sorted(stats, key=lambda entry: (entry["month"], entry["purpose"] == NOT_PUBLIC, entry["purpose"]))


def processing_register(*, organisation: Organisation, at: datetime | None = None) -> dict:
    """The organisation's record of processing activities (GDPR Art. 30), from its purposes and datasets."""
    at = at or timezone.now()
    activities = []
    purposes = Purpose.objects.filter(holder=organisation).prefetch_related("decisions").order_by("code")
    for purpose in purposes:
        datasets = Dataset.objects.filter(
            Q(collection_purposes=purpose) | Q(grants__in=Grant.objects.filter(live_grant_q(at), purpose=purpose))
        ).distinct()
        datasets = list(datasets.select_related("owner", "schema_version__schema").order_by("pk"))
        recipients = sorted(
            {
                grant.grantee.name if grant.grantee else "anyone (open aggregates)"
                for grant in Grant.objects.filter(
                    live_grant_q(at), dataset__owner=organisation, purpose=purpose
                ).select_related("grantee")
            }
        )
        activities.append(
            {
                "purpose": purpose.code,
                "title": purpose.title,
                "decision_served": purpose.decision,
                "category": purpose.category,
                "legal_basis": f"GDPR Art. 6(1)({purpose.legal_basis})",
                "national_basis": purpose.national_basis,
                "in_force": purpose.in_force_at(at),
                "status": purpose.status,
                "dpia": {
                    "required": purpose.dpia_required,
                    "status": purpose.dpia_status,
                    "reference": purpose.dpia_reference,
                },
                "data_categories": sorted(
                    {f"{d.schema_version.schema.code} ({d.schema_version.privacy_class})" for d in datasets}
                ),  # fmt: skip
                "datasets": [{"id": d.pk, "title": d.title, "owner": d.owner.slug} for d in datasets],
                "recipients": recipients,
                "retention_days": max((d.retention_days for d in datasets), default=None),
                "minimisation": {
                    "min_bucket_minutes": purpose.min_bucket_minutes,
                    "area_only": purpose.area_only,
                    "k_threshold": purpose.k_threshold,
                },
                "valid_from": purpose.valid_from,
                "valid_until": purpose.valid_until,
            }
        )
    shared = Grant.objects.filter(live_grant_q(at), dataset__owner=organisation).select_related(
        "dataset", "purpose", "grantee"
    )
    return {
        "controller": {"name": organisation.name, "slug": organisation.slug, "contact": organisation.contact_email},
        "generated_at": at,
        "activities": activities,
        "disclosures": [
            {
                "dataset": grant.dataset_id,
                "purpose": grant.purpose.code,
                "recipient": grant.grantee.name if grant.grantee else "anyone (open aggregates)",
                "level": grant.level,
                "repurposing": grant.assessment_id is not None,
                "valid_until": grant.valid_until,
            }
            for grant in shared
        ],
        "security_measures": (
            "Purpose-bound access (every data request declares an approved purpose and is checked against "
            "grants); small-count suppression; append-only, hash-chained access log; hashed API keys."
        ),
    }


def processing_register_rows(register: dict) -> list[dict]:
    """The Art. 30 record as flat rows (one per processing activity), for CSV."""
    return [
        {
            "controller": register["controller"]["name"],
            "purpose": activity["purpose"],
            "title": activity["title"],
            "decision_served": activity["decision_served"],
            "category": activity["category"],
            "legal_basis": activity["legal_basis"],
            "national_basis": activity["national_basis"],
            "in_force": activity["in_force"],
            "dpia_required": activity["dpia"]["required"],
            "dpia_status": activity["dpia"]["status"],
            "data_categories": "; ".join(activity["data_categories"]),
            "datasets": "; ".join(str(dataset["id"]) for dataset in activity["datasets"]),
            "recipients": "; ".join(activity["recipients"]),
            "retention_days": activity["retention_days"],
        }
        for activity in register["activities"]
    ]
