"""`manage.py records_partitions`: create the monthly partitions of records ahead, and report them (run it daily)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from datasets import partitions


class Command(BaseCommand):
    help = (
        "Create the monthly partitions of records for this month and the next ones (PostgreSQL), move the rows "
        "that sit in the default partition into the months created for them, and list the partitions."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ahead", type=int, default=3, help="months after this one (default 3)")

    def handle(self, *args, ahead, **options):
        if not partitions.enabled():
            self.stdout.write("records are one plain table on this database: no partitions")
            return
        if ahead < 0:
            self.stderr.write("--ahead must be 0 or more")
            return
        months = set(partitions.months_ahead(timezone.now(), ahead)) | partitions.months_in_default()
        for name in partitions.months_create(months):
            self.stdout.write(f"created {name}")
        for partition in partitions.existing():
            span = "default" if partition.start is None else f"{partition.start:%Y-%m-%d} to {partition.end:%Y-%m-%d}"
            rows = "not analysed yet" if partition.rows < 0 else f"about {partition.rows} rows"
            self.stdout.write(f"{partition.name}: {span}, {rows}")
