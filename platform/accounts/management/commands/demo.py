"""`manage.py demo`: load the demo data once; print its credentials and write them to a git-ignored file."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo
from datasets import demo as datasets_demo
from purposes import demo as purposes_demo
from sensors import demo as sensors_demo


def credentials_path() -> Path:
    return Path(settings.DATA_DIR) / "demo-credentials.env"


class Command(BaseCommand):
    help = (
        "Load the demo (organisations of every kind with people and API keys, sensors, datasets, purposes and "
        "grants) once; later runs change nothing."
    )

    def handle(self, *args, **options):
        path = credentials_path()
        if demo.is_loaded():
            self.stdout.write(f"Demo data is already loaded; its credentials are in {path}.")
            return
        credentials = demo.Credentials()
        with transaction.atomic():  # all of the demo, or none of it
            organisations = demo.load(credentials)
            sensors_demo.load(organisations)
            datasets = datasets_demo.load(organisations)
            purposes_demo.load(organisations, datasets, credentials)
        text = "# Demo credentials, shown once. `source` this file to use them in a shell.\n" + "".join(
            f"{comment}\n{assignment}\n" for comment, assignment in credentials.lines
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o600)
        self.stdout.write(text)
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded; the credentials above are also in {path}."))
