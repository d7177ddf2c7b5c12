"""`manage.py demo`: organisations of every kind, people and keys, credentials shown once."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import ApiKey, Membership, Organisation, OrganisationKind

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def parse(text):
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_demo_loads_every_kind_once_and_writes_the_credentials(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    out = StringIO()
    call_command("demo", stdout=out)
    assert set(Organisation.objects.values_list("kind", flat=True)) == set(OrganisationKind.values)
    credentials = parse((tmp_path / "demo-credentials.env").read_text())
    assert (tmp_path / "demo-credentials.env").stat().st_mode & 0o077 == 0
    keys = {name: value for name, value in credentials.items() if name.startswith("CDP_KEY_")}
    assert len(keys) == Organisation.objects.count() == ApiKey.objects.count()
    for name, secret in keys.items():
        assert secret in out.getvalue()
        response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Api-Key {secret}")
        assert response.status_code == 200, name
    password = credentials["CDP_PASSWORD_GEMEENTE_VOORBEELDSTAD_PRIVACY_OFFICER"]
    user = authenticate(username="gemeente-voorbeeldstad-privacy-officer", password=password)
    assert Membership.objects.get(user=user).role == "privacy_officer"

    again = StringIO()
    counts = (Organisation.objects.count(), ApiKey.objects.count(), Membership.objects.count())
    call_command("demo", stdout=again)
    assert "already loaded" in again.getvalue()
    assert (Organisation.objects.count(), ApiKey.objects.count(), Membership.objects.count()) == counts
    assert not any(secret in again.getvalue() for secret in keys.values())
