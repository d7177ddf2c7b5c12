"""Ships the sensor-type taxonomy (sensors/taxonomy.py) with the platform."""

from django.db import migrations

from sensors.taxonomy import SENSOR_TYPES


def load(apps, schema_editor):
    SensorType = apps.get_model("sensors", "SensorType")
    for entry in SENSOR_TYPES:
        SensorType.objects.update_or_create(code=entry["code"], defaults=entry)


def unload(apps, schema_editor):
    apps.get_model("sensors", "SensorType").objects.filter(code__in=[e["code"] for e in SENSOR_TYPES]).delete()


class Migration(migrations.Migration):
    dependencies = [("sensors", "0001_sensor_types_areas_sensors_history")]

    operations = [migrations.RunPython(load, unload)]
