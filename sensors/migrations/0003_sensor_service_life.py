"""Sensors get a service life: installation and removal as moments, and suspensions (docs/adr/0006).

Existing data moves over: `installed_at` (a date) becomes midnight UTC of that day; `active_until` (a
date, inclusive) becomes a removal at midnight UTC of the next day, the same half-open end; a removed
sensor without it is removed at its last "removed" event (else its last change); suspensions are read
back from the sensor's history (suspended ... resumed), the last one open if it is still suspended.
"""

from datetime import UTC, datetime, time, timedelta

from django.db import migrations, models
from django.db.models import Q


def _midnight(day):
    return datetime.combine(day, time(0), tzinfo=UTC)


def forwards(apps, schema_editor):
    Sensor = apps.get_model("sensors", "Sensor")
    Suspension = apps.get_model("sensors", "Suspension")
    SensorEvent = apps.get_model("sensors", "SensorEvent")
    now = datetime.now(UTC)
    for sensor in Sensor.objects.all().iterator():
        sensor.installed_at = _midnight(sensor.installed_on) if sensor.installed_on else None
        events = list(SensorEvent.objects.filter(sensor=sensor).order_by("at", "id").values_list("action", "at"))
        note = ""
        if sensor.active_until is not None:
            end = _midnight(sensor.active_until + timedelta(days=1))
            if end <= now or sensor.status == "removed":
                sensor.removed_at, sensor.status = end, "removed"
            else:
                note = f"Its planned end ({sensor.active_until}) was dropped: remove the sensor when it ends."
        if sensor.status == "removed" and sensor.removed_at is None:
            removals = [at for action, at in events if action == "removed"]
            sensor.removed_at = removals[-1] if removals else sensor.updated_at
        if sensor.installed_at and sensor.removed_at and sensor.removed_at <= sensor.installed_at:
            sensor.removed_at = sensor.installed_at + timedelta(seconds=1)
        suspensions, open_start = [], None
        for action, at in events:
            if action == "suspended" and open_start is None:
                open_start = at
            elif action in ("resumed", "removed") and open_start is not None:
                if at > open_start:
                    suspensions.append((open_start, at))
                open_start = None
        if open_start is not None:
            ends_at = sensor.removed_at if sensor.status == "removed" else None
            if sensor.status in ("suspended", "removed") and (ends_at is None or ends_at > open_start):
                suspensions.append((open_start, ends_at))
        elif sensor.status == "suspended":
            suspensions.append((sensor.updated_at, None))
        Sensor.objects.filter(pk=sensor.pk).update(
            installed_at=sensor.installed_at, removed_at=sensor.removed_at, status=sensor.status
        )
        Suspension.objects.bulk_create(
            Suspension(sensor=sensor, starts_at=start, ends_at=end) for start, end in suspensions
        )
        if note:
            SensorEvent.objects.create(sensor=sensor, action="updated", at=now, changes={}, note=note)


def backwards(apps, schema_editor):
    Sensor = apps.get_model("sensors", "Sensor")
    for sensor in Sensor.objects.all().iterator():
        Sensor.objects.filter(pk=sensor.pk).update(
            installed_on=sensor.installed_at.date() if sensor.installed_at else None,
            active_until=(sensor.removed_at - timedelta(microseconds=1)).date() if sensor.removed_at else None,
        )


class Migration(migrations.Migration):
    dependencies = [("sensors", "0002_sensor_type_taxonomy")]

    operations = [
        migrations.RemoveConstraint(model_name="sensor", name="sensor_active_until_after_installed"),
        migrations.RenameField(model_name="sensor", old_name="installed_at", new_name="installed_on"),
        migrations.AddField(
            model_name="sensor", name="installed_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(model_name="sensor", name="removed_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.CreateModel(
            name="Suspension",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("starts_at", models.DateTimeField()),
                ("ends_at", models.DateTimeField(blank=True, null=True)),
                (
                    "sensor",
                    models.ForeignKey(
                        on_delete=models.deletion.CASCADE, related_name="suspensions", to="sensors.sensor"
                    ),
                ),
            ],
            options={
                "ordering": ["sensor", "starts_at"],
                "constraints": [
                    models.CheckConstraint(
                        condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                        name="suspension_ends_after_start",
                    ),
                    models.UniqueConstraint(
                        condition=Q(ends_at__isnull=True), fields=("sensor",), name="suspension_one_open_per_sensor"
                    ),
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
