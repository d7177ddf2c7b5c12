"""Noise on open grants and a privacy budget per dataset (issue 11, docs/privacy-of-aggregates.md).

`Grant.noise_epsilon` (null on every existing grant: nothing changes for them), the budget (keyed by
dataset_id), and its ledger of spends: append-only (triggers, as for the access log) and, on PostgreSQL,
keyed by `(dataset_id, id)` (Citus, docs/adr/0008; Django's state keeps `id`, nothing points at the
table). The reverse drops the triggers, the tables and the column.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from purposes import triggers

LEDGER = "purposes_privacyspend"


def forward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {LEDGER} DROP CONSTRAINT {LEDGER}_pkey")
        schema_editor.execute(f"ALTER TABLE {LEDGER} ADD CONSTRAINT {LEDGER}_pkey PRIMARY KEY (dataset_id, id)")
    triggers.execute(connection, triggers.create_sql(connection.vendor, triggers.LEDGER_TABLES))


def backward(apps, schema_editor):
    connection = schema_editor.connection
    triggers.execute(connection, triggers.drop_sql(connection.vendor, triggers.LEDGER_TABLES))
    if connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {LEDGER} DROP CONSTRAINT {LEDGER}_pkey")
        schema_editor.execute(f"ALTER TABLE {LEDGER} ADD CONSTRAINT {LEDGER}_pkey PRIMARY KEY (id)")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_organisations_memberships_api_keys'),
        ('datasets', '0010_every_growing_table_keyed_by_dataset'),
        ('purposes', '0003_access_log_datasets_keyed_by_dataset'),
    ]

    operations = [
        migrations.CreateModel(
            name='PrivacyBudget',
            fields=[
                ('dataset', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='privacy_budget', serialize=False, to='datasets.dataset')),
                ('total_epsilon', models.DecimalField(blank=True, decimal_places=9, help_text="null: the platform's PRIVACY_BUDGET_DEFAULT_EPSILON.", max_digits=18, null=True)),
                ('spent_epsilon', models.DecimalField(decimal_places=9, default=0, max_digits=18)),
                ('reset_at', models.DateTimeField(blank=True, help_text='When the owner last set spent back to 0.', null=True)),
                ('changed_at', models.DateTimeField(blank=True, null=True)),
                ('changed_by_name', models.CharField(blank=True, max_length=150)),
            ],
            options={
                'ordering': ['dataset'],
            },
        ),
        migrations.CreateModel(
            name='PrivacySpend',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(default=django.utils.timezone.now)),
                ('epsilon', models.DecimalField(decimal_places=9, help_text='Charged: counts x epsilon_per_count, rounded up.', max_digits=18)),
                ('counts', models.PositiveIntegerField(help_text='Noisy numbers released.')),
                ('epsilon_per_count', models.FloatField()),
                ('purpose_code', models.CharField(max_length=80)),
            ],
            options={
                'ordering': ['dataset', 'at', 'id'],
            },
        ),
        migrations.AddField(
            model_name='grant',
            name='noise_epsilon',
            field=models.FloatField(blank=True, help_text='Open grants only: epsilon per released count (> 0, at most 10); null: none.', null=True),
        ),
        migrations.AddConstraint(
            model_name='grant',
            constraint=models.CheckConstraint(condition=models.Q(('noise_epsilon__isnull', True), models.Q(('noise_epsilon__gt', 0), ('noise_epsilon__lte', 10)), _connector='OR'), name='grant_noise_epsilon_range'),
        ),
        migrations.AddConstraint(
            model_name='grant',
            constraint=models.CheckConstraint(condition=models.Q(('noise_epsilon__isnull', True), ('grantee__isnull', True), _connector='OR'), name='grant_noise_open_only'),
        ),
        migrations.AddConstraint(
            model_name='privacybudget',
            constraint=models.CheckConstraint(condition=models.Q(('spent_epsilon__gte', 0)), name='privacybudget_spent_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='privacybudget',
            constraint=models.CheckConstraint(condition=models.Q(('total_epsilon__isnull', True), ('total_epsilon__gte', 0), _connector='OR'), name='privacybudget_total_not_negative'),
        ),
        migrations.AddField(
            model_name='privacyspend',
            name='dataset',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='privacy_spends', to='datasets.dataset'),
        ),
        migrations.AddField(
            model_name='privacyspend',
            name='grant',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='privacy_spends', to='purposes.grant'),
        ),
        migrations.AddIndex(
            model_name='privacyspend',
            index=models.Index(fields=['dataset', 'at'], name='privacyspend_dataset_time'),
        ),
        migrations.AddConstraint(
            model_name='privacyspend',
            constraint=models.CheckConstraint(condition=models.Q(('epsilon__gt', 0)), name='privacyspend_epsilon_positive'),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
