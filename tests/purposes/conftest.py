"""A small world for purpose binding: a city that owns a dataset with records, the police, a research lab."""

from datetime import timedelta

import orjson
import pytest
from django.utils import timezone

from accounts.models import OrganisationKind, Role
from accounts.selectors import Caller
from datasets import services as dataset_services
from purposes import services
from purposes.models import AccessLevel, DpiaStatus, PurposeCategory
from tests.datasets.conftest import count_record, make_dataset, make_sensor
from tests.factories import MembershipFactory, OrganisationFactory

RECORDS = "/api/v1/records/"


def as_role(organisation, role):
    return Caller(roles={organisation.pk: role})


def officer(organisation):
    """A signed-in privacy officer (assessments are signed by a person)."""
    membership = MembershipFactory(organisation=organisation, role=Role.PRIVACY_OFFICER)
    return Caller(user=membership.user, roles={organisation.pk: Role.PRIVACY_OFFICER})


def make_purpose(holder, code, *, approve=True, levels=("aggregate", "records"), **fields):
    fields.setdefault("category", PurposeCategory.CROWD_SAFETY)
    fields.setdefault("dpia_required", True)
    fields.setdefault("dpia_status", DpiaStatus.APPROVED)
    purpose = services.purpose_create(
        caller=as_role(holder, Role.PRIVACY_OFFICER),  # who records the DPIA's outcome
        holder=holder,
        code=code,
        title=code.replace("-", " "),
        decision="Decide on crowd measures",
        legal_basis="e",
        allowed_levels=list(levels),
        valid_from=fields.pop("valid_from", timezone.now() - timedelta(days=1)),
        **fields,
    )
    if approve:
        purpose = services.purpose_approve(caller=as_role(holder, Role.PRIVACY_OFFICER), purpose=purpose)
    return purpose


def grant(dataset, purpose, grantee, level=AccessLevel.RECORDS, assessment=None, **conditions):
    return services.grant_create(
        caller=as_role(dataset.owner, Role.DATA_STEWARD),
        dataset=dataset,
        purpose=purpose,
        grantee=grantee,
        level=level,
        assessment=assessment,
        **conditions,
    )


def assess(dataset, purpose):
    return services.assessment_create(
        caller=officer(dataset.owner),
        dataset=dataset,
        purpose=purpose,
        link_between_purposes="Both serve the safety of the same crowd.",
        context_of_collection="Collected by the city in the public space, with signs.",
        nature_of_data="Counts per 5 minutes, no images, no identifiers.",
        possible_consequences="Police deployment; no measures against individuals.",
        safeguards="Aggregates only, 15-minute buckets, per area, k = 10.",
    )


@pytest.fixture
def world(db):
    city = OrganisationFactory(kind=OrganisationKind.MUNICIPALITY, slug="stad", name="Gemeente Stad")
    police = OrganisationFactory(kind=OrganisationKind.POLICE, slug="politie", name="Politie")
    lab = OrganisationFactory(kind=OrganisationKind.RESEARCH, slug="lab", name="Crowd Lab")
    gate = make_sensor(city, city, "gate-1")
    safety = make_purpose(city, "stad-crowd-safety")
    dataset = make_dataset(city, sensors=[gate])
    dataset.collection_purposes.set([safety])
    records = [
        count_record(start=f"2026-01-05T10:{m:02d}:00Z", end=f"2026-01-05T10:{m + 5:02d}:00Z", count_in=m, count_out=12)
        for m in range(0, 55, 5)
    ]
    dataset_services.records_ingest(
        caller=as_role(city, Role.INTEGRATOR),
        dataset=dataset,
        body=orjson.dumps({"records": records}),
        content_type="application/json",
    )
    return {"city": city, "police": police, "lab": lab, "gate": gate, "safety": safety, "dataset": dataset}


@pytest.fixture
def open_research(world):
    """An open grant: the city's research purpose gives anyone the dataset's aggregates."""
    research = make_purpose(
        world["city"], "stad-open-research", levels=("aggregate",), category=PurposeCategory.RESEARCH
    )
    world["dataset"].collection_purposes.add(research)
    grant(world["dataset"], research, None, AccessLevel.AGGREGATE)
    return research
