"""Datasets: registered by the owner against a schema version, metadata shared unless restricted,
a public catalogue that a DCAT harvester can read."""

import pytest
import rdflib
from rdflib.namespace import DCAT, DCTERMS, RDF

from accounts.models import OrganisationKind, Role
from datasets.models import Dataset
from sensors.models import SensorStatus
from tests.api.endpoint_checks import ScopedEndpointChecks
from tests.datasets.conftest import make_dataset, make_sensor
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
DATASETS = "/api/v1/datasets/"


@pytest.fixture
def steward(city, key_client):
    return key_client(city, Role.DATA_STEWARD)


def payload(gates, **changes):
    return {
        "title": "Gate counts",
        "description": "People through the gates.",
        "schema": "crowd-count-line",
        "contact_point": "data@stad.example",
        "themes": ["TRAN"],
        "keywords": ["gates"],
        "sensors": [s.pk for s in gates],
        "retention_days": 30,
        "access": "open_aggregate",
        "status": "active",
        **changes,
    }


@pytest.mark.smoke
def test_the_owner_registers_a_dataset_against_the_latest_schema_version(steward, gates, city):
    response = steward.post(DATASETS, payload(gates))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["owner"], body["schema"], body["schema_version"]) == (city.slug, "crowd-count-line", "1.0.0")
    assert body["conforms_to"].endswith("/api/v1/schemas/crowd-count-line/versions/1.0.0/")
    assert body["publisher"] == city.name
    assert body["spatial_coverage"] == [5.0, 52.0, 5.0, 52.0]
    assert body["temporal_coverage"] is None


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"schema": "no-such-schema"}, "/schema"),
        ({"schema_version": "9.0.0"}, "/schema_version"),
        ({"themes": ["PARTY"]}, "/themes/0"),
        ({"access": "secret"}, "/access"),
        ({"retention_days": 0}, "/retention_days"),
        ({"rollup_retention_days": 29}, "/rollup_retention_days"),  # fewer days than the records' 30
        ({"rollup_retention_days": "long"}, "/rollup_retention_days"),
    ],
)
def test_bad_metadata_is_named(steward, gates, changes, pointer):
    response = steward.post(DATASETS, payload(gates, **changes))
    assert response.status_code == 422, response.content
    assert pointer in [e["pointer"] for e in response.json()["errors"]]
    assert not Dataset.objects.exists()


def test_the_owner_sets_how_long_rollups_are_kept_never_shorter_than_the_records(steward, gates):
    response = steward.post(DATASETS, payload(gates))
    assert response.json()["rollup_retention_days"] is None  # the default: 3650 days
    url = f"{DATASETS}{response.json()['id']}/"
    answer = steward.patch(url, {"rollup_retention_days": 800}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["rollup_retention_days"] == 800
    assert Dataset.objects.get().rollup_retention_days == 800
    # Records kept longer than the rollups: refused, whichever of the two the request changes.
    for change in ({"retention_days": 900}, {"rollup_retention_days": 20}):
        answer = steward.patch(url, change, format="json")
        assert answer.status_code == 422, (change, answer.content)
        assert answer["Content-Type"] == "application/problem+json"
        assert [e["pointer"] for e in answer.json()["errors"]] == ["/rollup_retention_days"], change
    assert steward.patch(url, {"retention_days": 900, "rollup_retention_days": 900}, format="json").status_code == 200
    assert steward.patch(url, {"rollup_retention_days": None}, format="json").json()["rollup_retention_days"] is None


def test_feeding_sensors_must_be_active_and_the_owners(steward, gates, city):
    proposed = make_sensor(city, city, "new-one", status=SensorStatus.PROPOSED)
    response = steward.post(DATASETS, payload(gates, sensors=[proposed.pk]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/sensors"
    stranger = OrganisationFactory(kind=OrganisationKind.MUNICIPALITY)
    foreign = make_sensor(stranger, stranger, "foreign")
    response = steward.post(DATASETS, payload(gates, sensors=[foreign.pk]))
    assert response.status_code == 422
    assert not Dataset.objects.exists()


def test_an_integrator_or_a_vendor_cannot_register_a_city_dataset(city, vendor, gates, key_client):
    assert key_client(city, Role.INTEGRATOR).post(DATASETS, payload(gates)).status_code == 403
    response = key_client(vendor, Role.ADMIN).post(DATASETS, payload(gates, owner=city.slug))
    # Another organisation answers like one that does not exist (tests/security/test_related_fields.py).
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/owner"
    assert not Dataset.objects.exists()


def test_others_see_metadata_unless_restricted_and_never_change_it(city, gates, key_client):
    shared = make_dataset(city, sensors=gates, title="Shared")
    restricted = make_dataset(city, sensors=gates, title="Restricted", access="restricted")
    draft = make_dataset(city, sensors=gates, title="Draft", status="draft")
    other_organisation = OrganisationFactory(kind=OrganisationKind.MUNICIPALITY)
    other = key_client(other_organisation, Role.ANALYST)
    other_steward = key_client(other_organisation, Role.DATA_STEWARD)
    titles = {d["title"] for d in other.get(DATASETS).json()["results"]}
    assert titles == {"Shared"}
    assert other.get(f"{DATASETS}{shared.pk}/").status_code == 200
    assert other.get(f"{DATASETS}{restricted.pk}/").status_code == 404
    assert other.get(f"{DATASETS}{draft.pk}/").status_code == 404
    assert other.patch(f"{DATASETS}{shared.pk}/", {"title": "Mine now"}).status_code == 403  # no write role at all
    assert other_steward.patch(f"{DATASETS}{shared.pk}/", {"title": "Mine now"}).status_code == 404
    assert other_steward.delete(f"{DATASETS}{shared.pk}/").status_code == 404
    shared.refresh_from_db()
    assert shared.title == "Shared"


def test_the_schema_version_is_pinned_once_records_exist(steward, dataset):
    from tests.datasets.conftest import RECORDS, count_record

    steward.post(RECORDS.format(dataset.pk), {"records": [count_record()]}, format="json")
    response = steward.patch(f"{DATASETS}{dataset.pk}/", {"schema": "crowd-flow"})
    assert response.status_code == 409
    assert response.json()["code"] == "schema_pinned"
    assert steward.delete(f"{DATASETS}{dataset.pk}/").status_code == 409


class TestDatasetEndpoint(ScopedEndpointChecks):
    list_url = DATASETS
    lookup_field = "pk"
    role = Role.DATA_STEWARD
    update_payload = {"title": "Taken over"}
    detail_actions = ["records"]

    def make_object(self, organisation):
        # Restricted: invisible to other organisations even for reading.
        return make_dataset(organisation, access="restricted")

    def test_the_list_holds_only_the_callers_rows(self, setting):
        client, own, theirs = setting
        ids = {row["id"] for row in client.get(self.list_url).json()["results"]}
        assert own.pk in ids and theirs.pk not in ids


@pytest.mark.smoke
def test_the_public_catalogue_and_its_dcat_ap_json_ld(api_client, city, gates):
    shared = make_dataset(city, sensors=gates, title="Gate counts", themes=["TRAN"], keywords=["gates", "crowd"])
    make_dataset(city, sensors=gates, title="Secret", access="restricted")
    make_dataset(city, sensors=gates, title="Draft", status="draft")
    listing = api_client.get("/api/v1/public/datasets/").json()
    assert [d["title"] for d in listing["results"]] == ["Gate counts"]

    response = api_client.get("/api/v1/public/catalog/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    graph = rdflib.Graph().parse(data=response.content, format="json-ld")
    datasets = list(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == 1
    node = datasets[0]
    assert str(graph.value(node, DCTERMS.title)) == "Gate counts"
    assert str(graph.value(node, DCTERMS.conformsTo)).endswith("/api/v1/schemas/crowd-count-line/versions/1.0.0/")
    assert {str(k) for k in graph.objects(node, DCAT.keyword)} == {"gates", "crowd"}
    assert str(graph.value(node, DCAT.theme)) == "http://publications.europa.eu/resource/authority/data-theme/TRAN"
    assert graph.value(node, DCAT.contactPoint) is not None
    distribution = graph.value(node, DCAT.distribution)
    assert str(graph.value(distribution, DCTERMS.license)) == shared.licence
    assert list(graph.subjects(RDF.type, DCAT.Catalog))


def test_themes_and_keywords_are_optional(steward, gates):
    response = steward.post(DATASETS, {k: v for k, v in payload(gates).items() if k not in ("themes", "keywords")})
    assert response.status_code == 201, response.content
    assert (response.json()["themes"], response.json()["keywords"]) == ([], [])
