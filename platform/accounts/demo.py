"""Demo organisations of every kind, with people and API keys, for a first run and for the guides."""

import secrets
from dataclasses import dataclass, field

from django.db import transaction

from accounts import services
from accounts.models import Organisation, OrganisationKind, Role


@dataclass
class Credentials:
    """What a demo load created; secrets exist only here, on their way to the screen and a file."""

    lines: list[tuple[str, str]] = field(default_factory=list)

    def add(self, name: str, value: str, comment: str) -> None:
        self.lines.append((f"# {comment}", f"{name}={value}"))


ORGANISATIONS = [
    (
        "gemeente-voorbeeldstad",
        "Gemeente Voorbeeldstad",
        OrganisationKind.MUNICIPALITY,
        "crowd@voorbeeldstad.example",
    ),
    ("city-of-melbourne", "City of Melbourne", OrganisationKind.MUNICIPALITY, "opendata@melbourne.example"),
    ("telvision", "TelVision Sensors B.V.", OrganisationKind.VENDOR, "support@telvision.example"),
    (
        "politie-voorbeeldstad",
        "Politie Eenheid Voorbeeldstad",
        OrganisationKind.POLICE,
        "info@politie.example",
    ),
    (
        "stadsfestival",
        "Stichting Stadsfestival",
        OrganisationKind.EVENT_ORGANISER,
        "veiligheid@festival.example",
    ),
    ("crowd-lab", "Crowd Dynamics Lab", OrganisationKind.RESEARCH, "lab@university.example"),
    ("open-data-collective", "Open Data Collective", OrganisationKind.OTHER, "hello@collective.example"),
]

# Roles given to people in every organisation, and more in the municipalities.
PEOPLE_ROLES = [Role.ADMIN]
MUNICIPALITY_ROLES = [Role.ADMIN, Role.DATA_STEWARD, Role.PRIVACY_OFFICER, Role.ANALYST]


def is_loaded() -> bool:
    return Organisation.objects.filter(slug=ORGANISATIONS[0][0]).exists()


def env_name(*parts: str) -> str:
    return "_".join(part.upper().replace("-", "_") for part in ("cdp", *parts))


@transaction.atomic
def load(credentials: Credentials) -> dict[str, Organisation]:
    organisations = {}
    for slug, name, kind, email in ORGANISATIONS:
        organisation = services.organisation_create(name=name, slug=slug, kind=kind, contact_email=email)
        organisations[slug] = organisation
        roles = MUNICIPALITY_ROLES if kind == OrganisationKind.MUNICIPALITY else PEOPLE_ROLES
        for role in roles:
            username = f"{slug}-{role.replace('_', '-')}"
            password = secrets.token_urlsafe(12)
            user = services.user_create(username=username, password=password, email=f"{username}@demo.example")
            services.membership_set(user=user, organisation=organisation, role=role)
            credentials.add(env_name("password", username), password, f"{name}: person {username} ({role.label})")
        key_role = Role.INTEGRATOR if kind == OrganisationKind.VENDOR else Role.ADMIN
        _, secret = services.api_key_create(organisation=organisation, name="demo key", role=key_role)
        credentials.add(env_name("key", slug), secret, f"{name}: API key, role {key_role.label}")
    return organisations
