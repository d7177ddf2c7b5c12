"""Idempotency keys belong to the organisation that sent the batch (issue 8): existing keys go to the dataset's owner."""

import django.db.models.deletion
from django.db import migrations, models


def keys_to_owner(apps, schema_editor):
    IdempotencyKey = apps.get_model("datasets", "IdempotencyKey")
    Dataset = apps.get_model("datasets", "Dataset")
    for dataset_id, owner_id in Dataset.objects.values_list("pk", "owner_id"):
        IdempotencyKey.objects.filter(dataset_id=dataset_id).update(organisation_id=owner_id)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_organisations_memberships_api_keys"),
        ("datasets", "0003_drop_collection_purposes_text"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="idempotencykey", name="idempotency_unique_key"),
        migrations.AddField(
            model_name="idempotencykey",
            name="organisation",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.organisation"
            ),
        ),
        migrations.RunPython(keys_to_owner, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="idempotencykey",
            name="organisation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.organisation"
            ),
        ),
        migrations.AddConstraint(
            model_name="idempotencykey",
            constraint=models.UniqueConstraint(
                fields=("dataset", "organisation", "key"), name="idempotency_unique_key_per_sender"
            ),
        ),
    ]
