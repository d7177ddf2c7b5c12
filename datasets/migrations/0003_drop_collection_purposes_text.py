"""The free-text collection purposes are purposes now (0002); the text column goes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("datasets", "0002_collection_purposes_link_purposes")]
    operations = [migrations.RemoveField("dataset", "collection_purposes_text")]
