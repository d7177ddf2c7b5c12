"""`manage.py verify_rollups`: recompute sensor and area rollups from the records and report every difference."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from api.moments import in_utc
from datasets import rollups
from datasets.models import Dataset


def moment(value: str):
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise CommandError(f"Not a moment with an offset: {value!r} (e.g. 2026-01-05T00:00Z).")
    return in_utc(parsed)


class Command(BaseCommand):
    help = (
        "Recompute the 15-minute sensor and area rollups of a range from the records (where raw records are still "
        "kept), report each difference and each record whose sensor does not exist; exit 1 when there is any."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", type=int, help="only this dataset")
        parser.add_argument("--from", dest="start", type=moment, help="from this moment (inclusive)")
        parser.add_argument("--to", dest="end", type=moment, help="before this moment (exclusive)")
        parser.add_argument("--repair", action="store_true", help="write the records' figures over the rollups")

    def handle(self, *args, dataset=None, start=None, end=None, repair=False, **options):
        datasets = Dataset.objects.select_related("schema_version").order_by("pk")
        if dataset is not None:
            datasets = datasets.filter(pk=dataset)
            if not datasets.exists():
                raise CommandError(f"No dataset {dataset}.")
        found = 0
        for each in datasets:
            # A day at a time, each in its own transaction under the dataset's ingest lock (rollups.verify).
            differences = rollups.verify(each, start, end, repair=repair)
            orphans = rollups.records_without_sensor(each, start, end)
            for difference in differences:
                self.stdout.write(f"dataset {each.pk}: {difference}")
            if orphans:
                self.stdout.write(f"dataset {each.pk}: {orphans} records name a sensor that does not exist")
            found += len(differences) + bool(orphans)
            done = " (repaired)" if repair and differences else ""
            self.stdout.write(f"dataset {each.pk} ({each.title}): {len(differences)} differences{done}")
        if found and not repair:
            raise CommandError(f"{found} differences between the rollups and the records.", returncode=1)
