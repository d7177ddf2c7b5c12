"""The service life replaces the dates: drop `installed_on`/`active_until`, and keep status and removal in step
(a separate migration: PostgreSQL alters no table with the data migration's checks still pending)."""

from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    dependencies = [("sensors", "0003_sensor_service_life")]

    operations = [
        migrations.RemoveField(model_name="sensor", name="installed_on"),
        migrations.RemoveField(model_name="sensor", name="active_until"),
        migrations.AddConstraint(
            model_name="sensor",
            constraint=models.CheckConstraint(
                condition=Q(removed_at__isnull=True)
                | Q(installed_at__isnull=True)
                | Q(removed_at__gt=models.F("installed_at")),
                name="sensor_removed_after_installed",
            ),
        ),
        migrations.AddConstraint(
            model_name="sensor",
            constraint=models.CheckConstraint(
                condition=Q(status="removed", removed_at__isnull=False) | (~Q(status="removed") & Q(removed_at=None)),
                name="sensor_removed_has_moment",
            ),
        ),
    ]
