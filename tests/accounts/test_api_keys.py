"""API keys: hashed at rest, shown once, revocable, expiring, role-bound."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, Role
from tests.factories import MembershipFactory, OrganisationFactory, api_key_for

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
KEYS = "/api/v1/api-keys/"


def client_with(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


def test_the_secret_is_not_in_the_database(organisation):
    api_key, secret = api_key_for(organisation)
    prefix, _, body = secret.partition(".")
    assert api_key.prefix == prefix and len(body) >= 32
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiKey._meta.db_table}")  # noqa: S608
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert body not in stored
    assert secret not in stored
    assert api_key.hashed_key.startswith("sha512$$")


@pytest.mark.smoke
def test_a_key_authenticates_and_says_who_it_is(organisation):
    api_key, secret = api_key_for(organisation, role=Role.ANALYST)
    response = client_with(secret).get(ME)
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "api_key"
    assert body["api_key"]["prefix"] == api_key.prefix
    assert body["organisations"] == [
        {"slug": organisation.slug, "name": organisation.name, "kind": organisation.kind, "role": "analyst"}
    ]
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_a_person_with_a_session_sees_every_membership(user_client, organisation, other_organisation):
    client = user_client(organisation, Role.DATA_STEWARD)
    MembershipFactory(user=client.user, organisation=other_organisation, role=Role.ANALYST)
    body = client.get(ME).json()
    assert body["kind"] == "user"
    assert body["username"] == client.user.username
    assert {(o["slug"], o["role"]) for o in body["organisations"]} == {
        (organisation.slug, "data_steward"),
        (other_organisation.slug, "analyst"),
    }


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Api-Key wrong.secretsecretsecretsecretsecret12", "api_key_invalid"),
        ("Api-Key no-dot-at-all", "api_key_invalid"),
        ("Api-Key ", "api_key_missing"),
    ],
)
def test_a_wrong_key_answers_401_problem(header, code):
    response = APIClient().get(ME, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Api-Key")
    assert response.json()["code"] == code


def test_the_right_prefix_with_a_wrong_secret_is_refused(organisation):
    _, secret = api_key_for(organisation)
    prefix = secret.split(".")[0]
    response = client_with(f"{prefix}.{'x' * 32}").get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_invalid"


def test_a_revoked_key_is_refused_on_the_next_request(organisation, key_client):
    admin = key_client(organisation, Role.ADMIN)
    victim, secret = api_key_for(organisation)
    assert client_with(secret).get(ME).status_code == 200
    response = admin.post(f"{KEYS}{victim.prefix}/revoke/")
    assert response.status_code == 200
    assert response.json()["revoked"] is True
    response = client_with(secret).get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_revoked"
    victim.refresh_from_db()
    first_revocation = victim.revoked_at
    admin.post(f"{KEYS}{victim.prefix}/revoke/")
    victim.refresh_from_db()
    assert victim.revoked_at == first_revocation


def test_an_expired_key_is_refused(organisation):
    api_key, secret = api_key_for(organisation, expires_at=timezone.now() + timedelta(hours=1))
    assert client_with(secret).get(ME).status_code == 200
    ApiKey.objects.filter(pk=api_key.pk).update(expiry_date=timezone.now() - timedelta(seconds=1))
    response = client_with(secret).get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_expired"


def test_an_admin_creates_a_key_that_is_shown_once(organisation, key_client):
    admin = key_client(organisation, Role.ADMIN)
    response = admin.post(KEYS, {"name": "camera gateway", "role": "integrator"})
    assert response.status_code == 201
    created = response.json()
    assert created["organisation"] == organisation.slug
    assert created["role"] == "integrator"
    secret = created["key"]
    assert client_with(secret).get(ME).json()["api_key"]["name"] == "camera gateway"
    listed = admin.get(KEYS).json()["results"]
    detail = admin.get(f"{KEYS}{created['prefix']}/").json()
    for shown in [*listed, detail]:
        assert "key" not in shown
        assert secret not in str(shown)


def test_an_admin_of_several_organisations_must_name_one(organisation, other_organisation, user_client):
    client = user_client(organisation, Role.ADMIN)
    MembershipFactory(user=client.user, organisation=other_organisation, role=Role.ADMIN)
    response = client.post(KEYS, {"name": "k"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/organisation"
    response = client.post(KEYS, {"name": "k", "organisation": other_organisation.slug})
    assert response.status_code == 201
    assert response.json()["organisation"] == other_organisation.slug


def test_a_key_cannot_be_created_for_an_organisation_one_does_not_administer(organisation, user_client):
    stranger = OrganisationFactory()
    client = user_client(organisation, Role.ADMIN)
    response = client.post(KEYS, {"name": "k", "organisation": stranger.slug})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/organisation"
    assert not ApiKey.objects.filter(organisation=stranger).exists()


def test_an_expiry_in_the_past_is_refused(organisation, key_client):
    response = key_client(organisation).post(KEYS, {"name": "k", "expires_at": "2001-01-01T00:00:00Z"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"pointer": "/expires_at", "detail": "Must be in the future.", "code": "invalid"}
    ]


@pytest.mark.parametrize("role", [Role.DATA_STEWARD, Role.PRIVACY_OFFICER, Role.ANALYST, Role.INTEGRATOR])
def test_only_admins_manage_keys(organisation, key_client, role):
    client = key_client(organisation, role)
    victim, _ = api_key_for(organisation)
    before = ApiKey.objects.count()
    assert client.get(KEYS).status_code == 403
    assert client.get(f"{KEYS}{victim.prefix}/").status_code == 403
    assert client.post(KEYS, {"name": "k"}).status_code == 403
    assert client.post(f"{KEYS}{victim.prefix}/revoke/").status_code == 403
    victim.refresh_from_db()
    assert not victim.revoked
    assert ApiKey.objects.count() == before


def test_only_admins_change_their_organisation(organisation, key_client):
    url = f"/api/v1/organisations/{organisation.slug}/"
    analyst = key_client(organisation, Role.ANALYST)
    assert analyst.get(url).status_code == 200
    assert analyst.patch(url, {"name": "Renamed"}).status_code == 403
    admin = key_client(organisation, Role.ADMIN)
    response = admin.patch(url, {"name": "Renamed", "slug": "ignored-read-only"})
    assert response.status_code == 200
    organisation.refresh_from_db()
    assert organisation.name == "Renamed"
    assert response.json()["slug"] == organisation.slug != "ignored-read-only"


def test_list_pages_are_capped(organisation, key_client):
    admin = key_client(organisation, Role.ADMIN)
    for n in range(501):
        api_key_for(organisation, name=f"key {n}")
    response = admin.get(KEYS, {"page_size": 100_000})
    body = response.json()
    assert body["count"] == 502
    assert len(body["results"]) == 500
    assert body["next"]
    assert len(admin.get(KEYS, {"page_size": 7}).json()["results"]) == 7


def test_key_lists_filter(organisation, key_client):
    admin = key_client(organisation, Role.ADMIN)
    revoked, _ = api_key_for(organisation, role=Role.ANALYST)
    admin.post(f"{KEYS}{revoked.prefix}/revoke/")
    body = admin.get(KEYS, {"revoked": "true"}).json()
    assert [k["prefix"] for k in body["results"]] == [revoked.prefix]
    body = admin.get(KEYS, {"role": "analyst"}).json()
    assert [k["prefix"] for k in body["results"]] == [revoked.prefix]


@pytest.mark.smoke
def test_the_apikey_command_prints_the_key_alone_on_its_last_line(organisation):
    out = StringIO()
    call_command(
        "apikey",
        "create",
        "--organisation",
        organisation.slug,
        "--role",
        "integrator",
        "--name",
        "ci",
        stdout=out,
    )
    secret = out.getvalue().strip().splitlines()[-1]
    assert " " not in secret
    body = client_with(secret).get(ME).json()
    assert body["api_key"]["role"] == "integrator"
    assert body["organisations"][0]["slug"] == organisation.slug
    out = StringIO()
    call_command("apikey", "list", "--organisation", organisation.slug, stdout=out)
    assert secret.split(".")[0] in out.getvalue() and secret not in out.getvalue()
    call_command("apikey", "revoke", secret.split(".")[0], stdout=StringIO())
    assert client_with(secret).get(ME).status_code == 401


def test_lists_hold_only_organisations_where_the_caller_has_the_role(organisation, other_organisation, user_client):
    client = user_client(organisation, Role.ADMIN)
    MembershipFactory(user=client.user, organisation=other_organisation, role=Role.ANALYST)
    own, _ = api_key_for(organisation)
    theirs, _ = api_key_for(other_organisation)
    prefixes = {k["prefix"] for k in client.get(KEYS).json()["results"]}
    assert own.prefix in prefixes and theirs.prefix not in prefixes
    assert client.get(f"{KEYS}{theirs.prefix}/").status_code == 404
    assert client.post(f"{KEYS}{theirs.prefix}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert not theirs.revoked
