"""`manage.py enforce_retention`: delete records older than their dataset's retention, and rollups older than
theirs (run it daily)."""

from django.core.management.base import BaseCommand

from datasets.models import Dataset
from datasets.retention import dataset_retention_enforce


class Command(BaseCommand):
    help = (
        "Delete records older than each dataset's retention, in batches, and rollups older than their own (longer) "
        "retention; log each run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", type=int, help="only this dataset")
        parser.add_argument("--batch-size", type=int, default=10_000)

    def handle(self, *args, dataset=None, batch_size, **options):
        datasets = Dataset.objects.all() if dataset is None else Dataset.objects.filter(pk=dataset)
        for each in datasets.order_by("pk"):
            run = dataset_retention_enforce(dataset=each, batch_size=batch_size)
            self.stdout.write(
                f"dataset {each.pk} ({each.title}): {run.records_deleted} records before {run.cutoff:%Y-%m-%d %H:%M} "
                f"and {run.rollups_deleted} rollup rows older than {each.rollup_retention.days} days deleted"
            )
            for entry in run.partitions_dropped:
                self.stdout.write(
                    f"  partition {entry['partition']} ({entry['from']} to {entry['to']}) dropped whole: "
                    f"records per dataset {entry['records']}"
                )
