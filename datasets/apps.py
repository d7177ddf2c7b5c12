"""App configuration for datasets: loads the standard schemas after every migrate."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _load_schemas(sender, using="default", **kwargs):
    from datasets import registry

    registry.schemas_load(using=using)


class DatasetsConfig(AppConfig):
    name = "datasets"
    verbose_name = "Datasets"

    def ready(self) -> None:
        post_migrate.connect(_load_schemas, sender=self, dispatch_uid="datasets-load-schemas")
