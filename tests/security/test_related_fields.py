"""Every related field a request can write names only what the caller may reference, and another
organisation's row answers exactly like a missing one: same status, same message, same queries."""

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver
from rest_framework import serializers

from accounts.models import Organisation, OrganisationKind, Role
from accounts.selectors import Caller
from api.fields import ScopedRelatedFieldMixin
from datasets.models import AccessClassification, Dataset, StandardSchema
from purposes.models import CompatibilityAssessment, Purpose
from sensors.models import Area, Sensor, SensorStatus, SensorType, Visibility
from tests.factories import OrganisationFactory
from tests.purposes.conftest import make_purpose
from tests.security.conftest import MISSING_PK, make_area, make_dataset, make_sensor, same_answer

PROJECT_PACKAGES = ("accounts", "api", "sensors", "datasets", "purposes", "web", "config")
SERIALIZER_MODULES = [
    "accounts.api.serializers",
    "sensors.api.serializers",
    "datasets.api.serializers",
    "datasets.api.records",
    "purposes.api.serializers",
]


def project_serializers() -> list[type]:
    """Every serializer class the project defines (the URLconf is loaded, so every view's are)."""
    get_resolver().url_patterns  # noqa: B018 - imports every view, and with them every serializer
    for name in SERIALIZER_MODULES:
        importlib.import_module(name)
    found, todo = [], [serializers.BaseSerializer]
    while todo:
        klass = todo.pop()
        todo += klass.__subclasses__()
        if klass.__module__.split(".")[0] in PROJECT_PACKAGES and not issubclass(klass, serializers.ListSerializer):
            found.append(klass)
    return sorted(set(found), key=lambda klass: f"{klass.__module__}.{klass.__qualname__}")


def writable_related_fields(serializer, path=""):
    """(path, field) for each writable related field, nested serializers and lists included."""
    for name, field in serializer.fields.items():
        where = f"{path}.{name}" if path else name
        if field.read_only:
            continue
        if isinstance(field, serializers.ListSerializer):
            yield from writable_related_fields(field.child, where)
        elif isinstance(field, serializers.BaseSerializer):
            yield from writable_related_fields(field, where)
        elif isinstance(field, serializers.ManyRelatedField):
            yield where, field.child_relation
        elif isinstance(field, serializers.RelatedField):
            yield where, field
        elif isinstance(field, serializers.ListField) and isinstance(field.child, serializers.RelatedField):
            yield where, field.child


def every_writable_related_field(context=None):
    for klass in project_serializers():
        serializer = klass(context=context or {})
        for path, field in writable_related_fields(serializer):
            yield f"{klass.__qualname__}.{path}", field


def test_every_writable_related_field_declares_what_the_caller_may_name():
    fields = dict(every_writable_related_field())
    # The walk finds the fields it must (so this test cannot pass by finding nothing).
    expected = {
        "DatasetSerializer.areas",
        "DatasetSerializer.sensors",
        "SensorSerializer.area",
        "GrantSerializer.grantee",
    }
    assert expected <= set(fields)
    unscoped = sorted(name for name, field in fields.items() if not isinstance(field, ScopedRelatedFieldMixin))
    assert unscoped == [], "use api.fields.ScopedPrimaryKeyRelatedField / ScopedSlugRelatedField"


@pytest.fixture
def strangers_private_rows(db):
    """Another organisation's rows that no one else may name: a private area, a proposed restricted
    sensor, a restricted dataset, a draft purpose and an assessment."""
    other = OrganisationFactory(kind=OrganisationKind.MUNICIPALITY)
    area = make_area(other, "Private", 8.0, 50.0)
    sensor = make_sensor(
        other, other, "hidden", 8.0005, 50.0005, status=SensorStatus.PROPOSED,
        visibility=Visibility.RESTRICTED, restriction_reason="Police.", area=area,
    )  # fmt: skip
    dataset = make_dataset(other, sensors=[sensor], access=AccessClassification.RESTRICTED)
    purpose = make_purpose(other, "other-draft", approve=False)
    assessment = CompatibilityAssessment.objects.create(
        dataset=dataset, purpose=purpose, link_between_purposes="x", context_of_collection="x",
        nature_of_data="x", possible_consequences="x", safeguards="x", signed_by_name="someone",
    )  # fmt: skip
    return {
        Organisation: [other.pk],
        Area: [area.pk],
        Sensor: [sensor.pk],
        Dataset: [dataset.pk],
        Purpose: [purpose.pk],
        CompatibilityAssessment: [assessment.pk],
    }


@pytest.mark.parametrize("role", Role.values)
def test_no_scoped_field_lets_a_stranger_name_another_organisations_private_rows(strangers_private_rows, role):
    mine = OrganisationFactory(kind=OrganisationKind.MUNICIPALITY)
    context = {"request": SimpleNamespace(_platform_caller=Caller(roles={mine.pk: role}))}
    checked = 0
    for name, field in every_writable_related_field(context):
        if field.public is not None:
            continue
        model = field.get_queryset().model
        private = strangers_private_rows[model]
        assert not field.get_queryset().filter(pk__in=private).exists(), name
        checked += 1
    assert checked >= 10


def test_public_fields_are_the_taxonomy_the_schemas_and_counterparts():
    public = {
        (name.split(".", 1)[1], field.queryset.model)
        for name, field in every_writable_related_field()
        if field.public is not None
    }
    assert public == {("schema", StandardSchema), ("sensor_type", SensorType), ("controller", Organisation)}


# Probes: another organisation's id against a missing one, through the API.

DATASETS = "/api/v1/datasets/"


def dataset_payload(**changes):
    return {
        "title": "Counts B",
        "description": "Test",
        "schema": "crowd-count-line",
        "contact_point": "data@b.example",
        "access": "open_aggregate",
        "status": "active",
        **changes,
    }


def probe(client, method, url, payload_for, foreign, missing):
    """The answers to the same request naming a foreign row and a missing one, and their query counts."""
    getattr(client, method)(url, payload_for(missing))  # warm up: a key's first use writes last_used_at
    answers = []
    for value in (foreign, missing):
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(url, payload_for(value))
        answers.append((response, len(queries)))
    (first, first_queries), (second, second_queries) = answers
    return first, second, first_queries, second_queries


def missing_pk(model):
    assert not model.objects.filter(pk=MISSING_PK).exists()
    return MISSING_PK


def assert_alike(first, second, foreign, missing, first_queries, second_queries, pointer):
    assert first.status_code == 422, first.content
    assert same_answer(first, second, foreign, missing), (first.content, second.content)
    assert [error["pointer"] for error in first.json()["errors"]] == [pointer]
    assert first_queries == second_queries


def test_a_dataset_cannot_name_another_organisations_area(a_area, city_b, b_keys):
    steward = b_keys[Role.DATA_STEWARD]
    missing = missing_pk(Area)
    results = probe(steward, "post", DATASETS, lambda pk: dataset_payload(areas=[pk]), a_area.pk, missing)
    assert_alike(*results[:2], a_area.pk, missing, *results[2:], "/areas")
    assert not Dataset.objects.filter(areas=a_area).exists()


def test_nor_by_changing_its_own_dataset(a_area, city_b, b_keys):
    own = make_dataset(city_b, title="B's")
    steward = b_keys[Role.DATA_STEWARD]
    missing = missing_pk(Area)
    url = f"{DATASETS}{own.pk}/"
    results = probe(steward, "patch", url, lambda pk: {"areas": [pk]}, a_area.pk, missing)
    assert_alike(*results[:2], a_area.pk, missing, *results[2:], "/areas")
    assert list(own.areas.all()) == []


def test_a_dataset_names_its_owners_areas(city_b, b_keys):
    own = make_area(city_b, "Plein B", 7.0, 51.0)
    response = b_keys[Role.DATA_STEWARD].post(DATASETS, dataset_payload(areas=[own.pk]))
    assert response.status_code == 201, response.content
    assert response.json()["areas"] == [own.pk]


def test_a_dataset_cannot_be_registered_for_another_organisation(city_a, b_keys):
    results = probe(
        b_keys[Role.ADMIN], "post", DATASETS, lambda slug: dataset_payload(owner=slug), city_a.slug, "no-such-org"
    )
    assert_alike(*results[:2], city_a.slug, "no-such-org", *results[2:], "/owner")


def test_an_area_cannot_be_added_for_another_organisation(city_a, b_keys):
    from tests.security.conftest import square

    def payload(slug):
        return {"owner": slug, "name": "Sneaky", "area_type": "square", "geometry": square(7.0, 51.0)}

    results = probe(b_keys[Role.DATA_STEWARD], "post", "/api/v1/areas/", payload, city_a.slug, "no-such-org")
    assert_alike(*results[:2], city_a.slug, "no-such-org", *results[2:], "/owner")
    assert not Area.objects.filter(owner=city_a).exists()


def test_a_sensor_cannot_be_placed_in_another_organisations_private_area(b_area, city_a, vendor_keys):
    def payload(pk):
        return {
            "reference": "probe-1",
            "name": "Probe",
            "sensor_type": "radar",
            "controller": city_a.slug,
            "location": {"type": "Point", "coordinates": [5.0, 52.0]},
            "personal_data_at_edge": False,
            "area": pk,
        }

    missing = missing_pk(Area)
    results = probe(vendor_keys[Role.INTEGRATOR], "post", "/api/v1/sensors/", payload, b_area.pk, missing)
    assert_alike(*results[:2], b_area.pk, missing, *results[2:], "/area")
    assert not Sensor.objects.exists()


def test_a_vendor_places_a_sensor_in_its_controllers_area_seen_in_the_register(a_area, public_sensor, vendor_keys):
    # The register names the area of a public sensor (id and name): the vendor may name it too.
    public_sensor.area = a_area
    public_sensor.save()
    response = vendor_keys[Role.INTEGRATOR].post(
        "/api/v1/sensors/",
        {
            "reference": "new-1",
            "name": "New",
            "sensor_type": "radar",
            "controller": "stad-a",
            "location": {"type": "Point", "coordinates": [5.0005, 52.0005]},
            "personal_data_at_edge": False,
            "area": a_area.pk,
        },
    )
    assert response.status_code == 201, response.content


def test_a_grant_cannot_name_an_organisation_the_caller_cannot_see(city_a, city_b, a_keys):
    dataset = make_dataset(city_a, title="A's")
    purpose = make_purpose(city_a, "a-safety")
    dataset.collection_purposes.add(purpose)

    def payload(slug):
        return {"dataset": dataset.pk, "purpose": purpose.code, "grantee": slug, "level": "aggregate"}

    results = probe(a_keys[Role.DATA_STEWARD], "post", "/api/v1/grants/", payload, city_b.slug, "no-such-org")
    assert_alike(*results[:2], city_b.slug, "no-such-org", *results[2:], "/grantee")


@pytest.mark.parametrize("value", [2**63, -1, 0], ids=["beyond a key", "negative", "zero"])
def test_values_no_row_can_have_answer_like_a_missing_one(city_b, b_keys, value):
    """(A NUL in a slug is refused earlier, by the JSON parser, with 400 null_character: tests/robustness.)"""
    body = dataset_payload(areas=[value])
    response = b_keys[Role.DATA_STEWARD].post(DATASETS, body, format="json")
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["code"] == "does_not_exist"
