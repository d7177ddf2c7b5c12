"""`manage.py apikey create|list|revoke`: manage API keys from the shell (bootstrap and scripts)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts import services
from accounts.models import ApiKey, Organisation, Role


class Command(BaseCommand):
    help = "Create, list or revoke API keys. `create` prints the new key alone on its last line."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        create = sub.add_parser("create", help="create a key for an organisation")
        create.add_argument("--organisation", required=True, help="organisation slug")
        create.add_argument("--role", required=True, choices=Role.values)
        create.add_argument("--name", required=True)
        create.add_argument("--expires-in-days", type=int, default=None)
        listing = sub.add_parser("list", help="list keys (never their secrets)")
        listing.add_argument("--organisation", help="organisation slug")
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, subcommand, **options):
        getattr(self, f"handle_{subcommand}")(**options)

    def handle_create(self, *, organisation, role, name, expires_in_days, **_):
        try:
            owner = Organisation.objects.get(slug=organisation)
        except Organisation.DoesNotExist:
            raise CommandError(f"No organisation with slug {organisation!r}.") from None
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        api_key, secret = services.api_key_create(organisation=owner, name=name, role=role, expires_at=expires_at)
        self.stderr.write(
            f"Created key {api_key.prefix} ({role}) for {owner.slug}. Store it now: it is not shown again."
        )
        self.stdout.write(secret)

    def handle_list(self, *, organisation=None, **_):
        keys = ApiKey.objects.select_related("organisation")
        if organisation:
            keys = keys.filter(organisation__slug=organisation)
        for key in keys:
            state = "revoked" if key.revoked else ("expired" if key.has_expired else "active")
            self.stdout.write(f"{key.prefix}\t{key.organisation.slug}\t{key.role}\t{state}\t{key.name}")

    def handle_revoke(self, *, prefix, **_):
        try:
            api_key = ApiKey.objects.get(prefix=prefix)
        except ApiKey.DoesNotExist:
            raise CommandError(f"No API key with prefix {prefix!r}.") from None
        services.api_key_revoke(api_key=api_key)
        self.stdout.write(f"Revoked {prefix}.")
