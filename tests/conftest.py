"""Shared fixtures: a clean throttle cache, and API clients acting for an organisation with a role."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import Role
from tests.factories import MembershipFactory, OrganisationFactory, api_key_for


@pytest.fixture(scope="session", autouse=True)
def _plain_http():
    # The suite runs with DEBUG off (production-like) but speaks plain HTTP, also to the live
    # server, whose middleware is built once per session: so switch the redirect off up front.
    from django.conf import settings

    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(scope="session", autouse=True)
def _static_files_uncollected():
    # Production serves static files by their hashed names from the manifest `collectstatic` writes
    # (scripts/serve; tests/deploy checks it). The suite never collects: plain names, found by the finders.
    from django.conf import settings
    from django.test import override_settings

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    # Production hashes passwords with PBKDF2 at Django's cost (0.19 s a password here): the demo's 15 users took
    # 2.8 s of its 6.7 s, paid by every test that loads it. The tests check who may sign in, not the hash's cost.
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def organisation(db):
    return OrganisationFactory()


@pytest.fixture
def other_organisation(db):
    return OrganisationFactory()


@pytest.fixture
def key_client(db):
    """key_client(organisation, role) -> APIClient authenticated with a new API key of that role."""

    def make(organisation, role=Role.ADMIN):
        _, secret = api_key_for(organisation, role=role)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        client.secret = secret
        return client

    return make


@pytest.fixture
def user_client(db):
    """user_client(organisation, role) -> APIClient logged in as a new member with that role."""

    def make(organisation, role=Role.ADMIN):
        membership = MembershipFactory(organisation=organisation, role=role)
        client = APIClient()
        client.force_login(membership.user)
        client.user = membership.user
        return client

    return make
