"""`manage.py contract_fixture --wfc FILE`: the data the schemathesis contract run (scripts/contract) works on.

The demo (every kind of organisation, sensors, datasets, purposes, grants), plus one API key in every role
for two municipalities, written to FILE as a Web Fuzzing Commons auth document: schemathesis sends each
operation as the first identity that is not refused, and replays reads as the other municipality's admin
(`object_level_authorization`, with the two admins as peers).
"""

import json
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services
from accounts.models import Organisation, Role

# Two organisations of the same kind, each with its own sensors, areas, datasets and purposes.
PEER_ORGANISATIONS = ("gemeente-voorbeeldstad", "city-of-melbourne")
# Admin first: the identity schemathesis tries first for every operation.
ROLE_ORDER = (Role.ADMIN, Role.DATA_STEWARD, Role.PRIVACY_OFFICER, Role.ANALYST, Role.INTEGRATOR)


def identity(slug: str, role: str) -> str:
    return f"{slug}-{role.replace('_', '-')}"


class Command(BaseCommand):
    help = "Load the demo and an API key in every role for two municipalities; write them as a WFC auth file."

    def add_arguments(self, parser):
        parser.add_argument("--wfc", required=True, help="where to write the WFC auth document (.json)")

    def handle(self, *args, wfc, **options):
        call_command("demo", stdout=StringIO())  # its credentials are not the run's
        entries = []
        with transaction.atomic():
            for slug in PEER_ORGANISATIONS:
                organisation = Organisation.objects.get(slug=slug)
                for role in ROLE_ORDER:
                    _, secret = services.api_key_create(
                        organisation=organisation, name=f"contract run ({role})", role=role
                    )
                    header = {"name": "Authorization", "value": f"Api-Key {secret}"}
                    entries.append({"name": identity(slug, role), "fixedHeaders": [header]})
        path = Path(wfc)
        path.write_text(json.dumps({"schemaVersion": "0.2.0", "auth": entries}, indent=2) + "\n")
        path.chmod(0o600)
        peers = [identity(slug, Role.ADMIN) for slug in PEER_ORGANISATIONS]
        self.stdout.write(f"Wrote {len(entries)} identities to {path}; peers: {', '.join(peers)}.")
