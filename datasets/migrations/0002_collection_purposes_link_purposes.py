"""`Dataset.collection_purposes` becomes links to purposes: each free text becomes a draft purpose of the
dataset's owner, to be completed and approved by its privacy officer."""

from django.db import migrations, models
from django.utils import timezone


def text_to_purposes(apps, schema_editor):
    Dataset = apps.get_model("datasets", "Dataset")
    Purpose = apps.get_model("purposes", "Purpose")
    for dataset in Dataset.objects.select_related("owner").exclude(collection_purposes_text=""):
        text = dataset.collection_purposes_text.strip()
        code = f"{dataset.owner.slug}-dataset-{dataset.pk}-collection"[:80]
        purpose, _ = Purpose.objects.get_or_create(
            code=code,
            defaults={
                "holder_id": dataset.owner_id,
                "title": text[:200],
                "decision": text,
                "description": "Migrated from the dataset's free-text collection purposes: complete it (legal basis, "
                "DPIA, minimisation) and have it approved.",
                "category": "crowd_safety_monitoring",
                "legal_basis": "e",
                "dpia_required": True,
                "dpia_status": "draft",
                "status": "draft",
                "allowed_levels": ["aggregate", "records"],
                "k_threshold": 10,
                "valid_from": timezone.now(),
            },
        )
        dataset.collection_purposes.add(purpose)


class Migration(migrations.Migration):
    dependencies = [
        ("datasets", "0001_schemas_datasets_records_rollups"),
        ("purposes", "0001_purposes_grants_access_log"),
    ]

    operations = [
        migrations.RenameField("dataset", "collection_purposes", "collection_purposes_text"),
        migrations.AddField(
            model_name="dataset",
            name="collection_purposes",
            field=models.ManyToManyField(
                blank=True,
                help_text="The purposes the data is collected for: they act as the owner's grants at records level.",
                related_name="collected_datasets",
                to="purposes.purpose",
            ),
        ),
        migrations.RunPython(text_to_purposes, migrations.RunPython.noop),
    ]
