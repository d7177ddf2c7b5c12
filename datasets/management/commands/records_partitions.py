"""`manage.py records_partitions`: create the monthly partitions of records ahead, and report them (run it daily)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from datasets import partitions


class Command(BaseCommand):
    help = (
        "Create the monthly partitions of records for this month and the next ones (PostgreSQL), move the rows "
        "that sit in the default partition into the months created for them, and list the partitions."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--ahead", type=int, default=3, help=f"months after this one, 0 to {partitions.AHEAD_MAX} (default 3)"
        )

    def handle(self, *args, ahead, **options):
        if not 0 <= ahead <= partitions.AHEAD_MAX:
            raise CommandError(f"--ahead must be from 0 to {partitions.AHEAD_MAX} months, not {ahead}.")
        if not partitions.enabled():
            self.stdout.write("records are one plain table on this database: no partitions")
            return
        months = set(partitions.months_ahead(timezone.now(), ahead)) | partitions.months_in_default()
        # One month per short transaction; a month whose lock is not granted in time is left for the next run.
        created = partitions.months_create(months)
        for name in created:
            self.stdout.write(f"created {name}")
        left = {partitions.name_of(month) for month in months} - {p.name for p in partitions.existing()}
        for partition in partitions.existing():
            span = "default" if partition.start is None else f"{partition.start:%Y-%m-%d} to {partition.end:%Y-%m-%d}"
            rows = "not analysed yet" if partition.rows < 0 else f"about {partition.rows} rows"
            self.stdout.write(f"{partition.name}: {span}, {rows}")
        if left:
            raise CommandError(f"Not created, the default partition was busy (run again): {', '.join(sorted(left))}.")
