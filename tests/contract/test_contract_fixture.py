"""The contract run's data: `manage.py contract_fixture` writes the identities schemathesis.toml names."""

import json
import tomllib
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient
from schemathesis.wfc.loader import load_from_file

from accounts.models import Role

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parents[2]


def test_the_fixture_writes_a_key_in_every_role_of_two_organisations_and_the_peers(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    wfc = tmp_path / "auth.json"
    call_command("contract_fixture", wfc=str(wfc))
    entries = {entry.name: entry for entry in load_from_file(wfc)}  # schemathesis reads it
    assert len(entries) == 2 * len(Role.values)
    config = tomllib.loads((PROJECT / "schemathesis.toml").read_text())
    peers = config["auth"]["wfc"]["peers"]
    assert set(peers) <= set(entries)
    organisations = set()
    for peer in peers:
        client = APIClient()
        header = entries[peer].fixed_headers[0]
        client.credentials(HTTP_AUTHORIZATION=header.value)
        me = client.get("/api/v1/me/").json()
        assert me["api_key"]["role"] == Role.ADMIN
        organisations.add(me["organisations"][0]["slug"])
    assert len(organisations) == 2, "the peers must act for two different organisations"
    assert json.loads(wfc.read_text())["auth"][0]["name"] == peers[0], "the first identity is a peer"
