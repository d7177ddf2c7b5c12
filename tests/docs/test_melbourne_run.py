"""The municipality guide's run of push_melbourne_counts on the demo says what the command says."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import Organisation, Role
from datasets.models import Dataset, Record
from tests.factories import api_key_for

PROJECT = Path(__file__).resolve().parents[2]
COUNTS = "datasets/demo_data/melbourne-hourly-counts-2011-01.csv"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_guides_melbourne_run_is_what_the_command_answers_on_the_demo(live_server, settings, tmp_path):
    settings.DATA_DIR = tmp_path / "var"
    call_command("demo", stdout=StringIO())
    guide = (PROJECT / "docs/guides/municipality.md").read_text()
    shown = re.search(rf"push_melbourne_counts {re.escape(COUNTS)}[^`]*```\n\n```text\n(.*?)```", guide, re.DOTALL)
    assert shown, "the guide shows the command's summary right after the command"
    city = Organisation.objects.get(slug="city-of-melbourne")
    dataset = Dataset.objects.get(owner=city)
    _, key = api_key_for(city, role=Role.INTEGRATOR)
    out = StringIO()
    call_command("push_melbourne_counts", str(PROJECT / COUNTS), "--url", live_server.url, "--key", key,
                 "--dataset", str(dataset.pk), stdout=out, stderr=StringIO())  # fmt: skip
    assert out.getvalue() == shown.group(1)

    # and what the prose says: the removed sensors feed the dataset, the two installed later hold nothing
    records = Record.objects.unguarded("integrity").filter(dataset=dataset)
    removed = ["State Library", "Flagstaff Station", "Australia on Collins"]
    assert sorted(dataset.sensors.filter(status="removed", name__in=removed).values_list("name", flat=True)) == sorted(
        removed
    )
    assert all(records.filter(sensor__name=name).count() == 744 for name in removed)
    later = dataset.sensors.filter(name__in=["Birrarung Marr", "Sandridge Bridge"])
    assert sorted(s.installed_at.date().isoformat() for s in later) == ["2014-12-17", "2019-09-25"]
    assert not records.filter(sensor__in=later).exists()
    assert records.values("sensor").distinct().count() == 15 and records.count() == 11160
