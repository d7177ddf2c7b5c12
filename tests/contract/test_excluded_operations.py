"""What the schemathesis run leaves out, tested here: revoking an API key (the run would revoke its own).

Each answer is checked against the document as the run checks the others: status, Content-Type, body."""

import pytest

from accounts.models import ApiKey, OrganisationKind, Role
from tests.factories import OrganisationFactory, api_key_for

pytestmark = pytest.mark.django_db

REVOKE = "/api/v1/api-keys/{prefix}/revoke/"


@pytest.fixture
def city(db):
    return OrganisationFactory(kind=OrganisationKind.MUNICIPALITY)


def test_an_admin_revokes_a_key_of_its_organisation(assert_conforms, city, key_client):
    client = key_client(city, Role.ADMIN)
    key, secret = api_key_for(city, role=Role.INTEGRATOR)
    response = client.post(REVOKE.format(prefix=key.prefix))
    assert response.status_code == 200, response.content
    assert_conforms("post", REVOKE, response)
    assert response.json()["revoked"] is True
    again = client.post(REVOKE.format(prefix=key.prefix))  # revoking twice keeps the first time
    assert assert_conforms("post", REVOKE, again).json()["revoked_at"] == response.json()["revoked_at"]


def test_a_key_that_revokes_itself_is_refused_afterwards(assert_conforms, city, key_client):
    client = key_client(city, Role.ADMIN)
    prefix = client.secret.split(".")[0]
    assert_conforms("post", REVOKE, client.post(REVOKE.format(prefix=prefix)))
    after = client.post(REVOKE.format(prefix=prefix))
    assert after.status_code == 401
    assert assert_conforms("post", REVOKE, after).json()["code"] == "api_key_revoked"


def test_another_organisations_key_is_not_found_and_stays_usable(assert_conforms, city, key_client):
    other = OrganisationFactory(kind=OrganisationKind.MUNICIPALITY)
    key, _ = api_key_for(other, role=Role.ADMIN)
    response = key_client(city, Role.ADMIN).post(REVOKE.format(prefix=key.prefix))
    assert response.status_code == 404
    assert_conforms("post", REVOKE, response)
    assert not ApiKey.objects.get(pk=key.pk).revoked


@pytest.mark.parametrize("role", [Role.DATA_STEWARD, Role.ANALYST, Role.INTEGRATOR])
def test_only_admins_revoke(assert_conforms, city, key_client, role):
    key, _ = api_key_for(city, role=Role.INTEGRATOR)
    response = key_client(city, role).post(REVOKE.format(prefix=key.prefix))
    assert response.status_code == 403
    assert_conforms("post", REVOKE, response)
    assert not ApiKey.objects.get(pk=key.pk).revoked


def test_anonymous_is_401(assert_conforms, api_client, city):
    key, _ = api_key_for(city, role=Role.INTEGRATOR)
    response = api_client.post(REVOKE.format(prefix=key.prefix))
    assert response.status_code == 401
    assert_conforms("post", REVOKE, response)
