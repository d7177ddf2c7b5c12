"""Cross-organisation access to every accounts endpoint: 401 anonymous, 404 for others' rows."""

import pytest

from tests.api.endpoint_checks import ScopedEndpointChecks
from tests.factories import OrganisationFactory, api_key_for


class TestOrganisationEndpoint(ScopedEndpointChecks):
    list_url = "/api/v1/organisations/"
    lookup_field = "slug"
    update_payload = {"name": "Taken over"}

    def make_object(self, organisation):
        return organisation


class TestApiKeyEndpoint(ScopedEndpointChecks):
    list_url = "/api/v1/api-keys/"
    lookup_field = "prefix"
    update_payload = {"name": "Taken over"}
    detail_actions = ["revoke"]

    def make_object(self, organisation):
        return api_key_for(organisation)[0]


@pytest.mark.django_db
def test_me_needs_credentials(api_client):
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_a_key_cannot_see_another_organisations_organisation(key_client):
    mine, theirs = OrganisationFactory(), OrganisationFactory()
    client = key_client(mine)
    slugs = [o["slug"] for o in client.get("/api/v1/organisations/").json()["results"]]
    assert slugs == [mine.slug]
    assert theirs.slug not in slugs
