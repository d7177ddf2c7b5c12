"""The same access checks for every organisation-scoped endpoint (after NetBox's APIViewTestCases).

A test class declares its data; these checks prove anonymous callers get 401, lists hold only the
caller's rows, and another organisation's row answers 404 to every method and stays unchanged.
"""

import pytest
from django.forms.models import model_to_dict
from rest_framework.test import APIClient

from accounts.models import Role
from tests.factories import OrganisationFactory, api_key_for


class ScopedEndpointChecks:
    list_url: str  # e.g. "/api/v1/api-keys/"
    lookup_field: str = "pk"
    role = Role.ADMIN  # a role that may read and write this endpoint
    update_payload: dict = {}
    detail_actions: list[str] = []  # POST actions on one object, e.g. ["revoke"]

    def make_object(self, organisation):
        """Create and return an object owned by `organisation`."""
        raise NotImplementedError

    @pytest.fixture
    def setting(self, db):
        mine, theirs = OrganisationFactory(), OrganisationFactory()
        _, secret = api_key_for(mine, role=self.role)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        return client, self.make_object(mine), self.make_object(theirs)

    def detail_url(self, obj):
        return f"{self.list_url}{getattr(obj, self.lookup_field)}/"

    def test_anonymous_callers_get_401(self, setting):
        _, own, _ = setting
        for url in (self.list_url, self.detail_url(own)):
            response = APIClient().get(url)
            assert response.status_code == 401, url
            assert response["Content-Type"] == "application/problem+json"

    def test_the_list_holds_only_the_callers_rows(self, setting):
        client, own, theirs = setting
        response = client.get(self.list_url, {"page_size": 500})
        assert response.status_code == 200
        identifiers = {str(row[self.lookup_field]) for row in response.json()["results"]}
        assert str(getattr(own, self.lookup_field)) in identifiers
        assert str(getattr(theirs, self.lookup_field)) not in identifiers

    def test_another_organisations_row_is_404_to_every_method_and_unchanged(self, setting):
        client, own, theirs = setting
        before = model_to_dict(theirs)
        url = self.detail_url(theirs)
        assert client.get(url).status_code == 404
        for method in ("put", "patch", "delete"):
            response = getattr(client, method)(url, self.update_payload)
            assert response.status_code in (404, 405), method
            assert response["Content-Type"] == "application/problem+json"
        for name in self.detail_actions:
            assert client.post(f"{url}{name}/").status_code == 404, name
        theirs.refresh_from_db()
        assert model_to_dict(theirs) == before
        assert client.get(self.detail_url(own)).status_code == 200
