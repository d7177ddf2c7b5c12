"""App configuration for datasets: loads the standard schemas after every migrate, and keeps the area
rollups in step with sensor placements."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _load_schemas(sender, using="default", stdout=None, verbosity=1, **kwargs):
    """Publish the schema documents on disk, but only into a database at the datasets app's latest migration: the
    files are today's, and an older state (a migration reversed, e.g. 0009's amendment of sound-anomaly 1.0.0)
    holds documents and columns of its own time."""
    from django.db import connections
    from django.db.migrations.loader import MigrationLoader

    from datasets import registry

    loader = MigrationLoader(connections[using], ignore_no_migrations=True)
    if not set(loader.graph.leaf_nodes(sender.label)) <= set(loader.applied_migrations):
        if verbosity and stdout is not None:
            stdout.write("  Standard schemas not loaded: the datasets app is not at its latest migration.\n")
        return
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
