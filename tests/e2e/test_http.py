"""End to end over real HTTP (a live server on 127.0.0.1): the quickstart's first calls."""

import json
import urllib.error
import urllib.request

import pytest

from accounts.models import Role
from tests.factories import OrganisationFactory, api_key_for

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.smoke]


def fetch(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_a_key_answers_its_organisation_and_a_wrong_key_401(live_server):
    organisation = OrganisationFactory(name="Gemeente Testdorp")
    _, secret = api_key_for(organisation, role=Role.ADMIN)
    status, _, body = fetch(f"{live_server.url}/api/v1/me/", {"Authorization": f"Api-Key {secret}"})
    assert status == 200
    assert json.loads(body)["organisations"][0]["name"] == "Gemeente Testdorp"

    status, headers, body = fetch(f"{live_server.url}/api/v1/me/", {"Authorization": "Api-Key wrong.key"})
    assert status == 401
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["code"] == "api_key_invalid"


def test_swagger_ui_and_its_assets_are_served(live_server):
    status, _, body = fetch(f"{live_server.url}/api/docs/")
    assert status == 200
    status, headers, _ = fetch(f"{live_server.url}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert status == 200
    assert "javascript" in headers["Content-Type"]
    status, headers, body = fetch(f"{live_server.url}/api/schema/?format=json")
    assert status == 200
    assert json.loads(body)["info"]["title"] == "Crowd Data Platform API"
