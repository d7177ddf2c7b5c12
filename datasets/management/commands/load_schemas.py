"""`manage.py load_schemas`: publish the standard schemas in datasets/schemas/ (also runs after migrate)."""

from django.core.management.base import BaseCommand, CommandError

from datasets import registry


class Command(BaseCommand):
    help = "Publish new standard schema versions; refuses a published version whose content changed."

    def handle(self, *args, **options):
        try:
            added = registry.schemas_load()
        except registry.SchemaDocumentError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{added} schema version(s) published.")
