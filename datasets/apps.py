"""App configuration for datasets: loads the standard schemas after every migrate, and keeps the area
rollups in step with sensor placements."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _load_schemas(sender, using="default", **kwargs):
    from datasets import registry

    registry.schemas_load(using=using)


class DatasetsConfig(AppConfig):
    name = "datasets"
    verbose_name = "Datasets"

    def ready(self) -> None:
        from datasets import rollups
        from sensors.signals import placements_changed

        post_migrate.connect(_load_schemas, sender=self, dispatch_uid="datasets-load-schemas")
        # A sensor's placements changed: its records' area attribution over that span is recomputed.
        placements_changed.connect(rollups.placements_changed, dispatch_uid="datasets-area-rollups")
