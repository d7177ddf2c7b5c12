"""Walk every chain of the access log and name the first event altered, removed or inserted."""

from django.core.management.base import BaseCommand, CommandError

from purposes.access_log import access_log_verify


class Command(BaseCommand):
    help = "Verify the access log's hash chains; exits non-zero and names the first break of each broken chain."

    def handle(self, **options):
        checked, breaks = access_log_verify()
        if breaks:
            for found in breaks:
                self.stderr.write(f"BROKEN {found}")
            raise CommandError(f"The access log does not verify: {len(breaks)} broken chain(s) in {checked} events.")
        self.stdout.write(f"OK: {checked} events verified.")
