"""The field's standards: FIWARE CrowdFlowObserved payloads import unchanged; Melbourne's hourly
counts arrive through the API with sums equal to the CSV's; retention deletes exactly what expired."""

import csv
import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Sum

from accounts.models import OrganisationKind, Role
from datasets import melbourne
from datasets.models import Record, RecordRollup, RetentionRun
from datasets.retention import dataset_retention_enforce
from sensors.models import Sensor
from tests.datasets.conftest import make_dataset, make_sensor
from tests.factories import OrganisationFactory, api_key_for

DATA = Path(__file__).resolve().parents[2] / "datasets" / "demo_data"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
FIWARE_ID = "urn:ngsi-ld:CrowdFlowObserved:Valladolid_1"


def test_the_repo_copies_are_the_shared_files():
    if not SHARED.exists():
        pytest.skip("../shared/data is not beside this checkout")
    pairs = [
        ("melbourne-hourly-counts-2011-01.csv", "melbourne/hourly-counts-2011-01.csv"),
        ("crowdflowobserved-keyvalues.json", "fiware/crowdflowobserved-keyvalues.json"),
        ("crowdflowobserved-normalized.jsonld", "fiware/crowdflowobserved-normalized.jsonld"),
    ]
    for ours, theirs in pairs:
        assert (DATA / ours).read_bytes() == (SHARED / theirs).read_bytes(), ours


@pytest.mark.django_db
@pytest.mark.smoke
def test_fiware_payloads_import_unchanged(city, key_client):
    sensor = make_sensor(city, city, FIWARE_ID, installed_at=datetime(2018, 1, 1, tzinfo=UTC))
    flows = make_dataset(city, code="crowd-flow", sensors=[sensor])
    client = key_client(city, Role.INTEGRATOR)
    url = f"/api/v1/datasets/{flows.pk}/records/fiware/"
    key_values = (DATA / "crowdflowobserved-keyvalues.json").read_bytes()
    response = client.post(url, key_values, content_type="application/json")
    assert response.status_code == 201, response.content
    record = Record.objects.unguarded("integrity").get(dataset=flows)
    assert record.observed_from == datetime(2018, 8, 7, 11, 10, tzinfo=UTC)
    assert record.observed_to == datetime(2018, 8, 7, 11, 15, tzinfo=UTC)
    assert (record.count, record.count_in, record.count_out) == (100, 50, 50)
    assert record.data == {"average_headway_s": 5, "congested": False, "direction": "inbound"}

    normalized = (DATA / "crowdflowobserved-normalized.jsonld").read_bytes()
    response = client.post(url, normalized, content_type="application/ld+json")
    assert response.status_code == 200, response.content
    assert response.json()["updated"] == 1  # same observation; the normalized form lacks towards/away
    record.refresh_from_db()
    assert (record.count, record.count_in, record.count_out) == (100, None, None)


@pytest.mark.django_db
def test_a_fiware_entity_of_another_type_is_refused(city, key_client):
    sensor = make_sensor(city, city, FIWARE_ID)
    flows = make_dataset(city, code="crowd-flow", sensors=[sensor])
    entity = json.loads((DATA / "crowdflowobserved-keyvalues.json").read_text()) | {"type": "ParkingSpot"}
    response = key_client(city).post(f"/api/v1/datasets/{flows.pk}/records/fiware/", entity, format="json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/0/type"
    assert not Record.objects.unguarded("integrity").exists()


def csv_sums(text: str) -> dict[str, int]:
    sums: dict[str, int] = {}
    rows = csv.reader(StringIO(text))
    header = next(rows)
    for row in rows:
        if row and row[0]:
            for name, cell in zip(header[2:], row[2:], strict=False):
                if cell.strip():
                    sums[name] = sums.get(name, 0) + int(cell)
    return sums


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_melbourne_hourly_counts_arrive_through_the_api_with_exact_sums(live_server):
    melbourne_city = OrganisationFactory(kind=OrganisationKind.MUNICIPALITY, slug="city-of-melbourne")
    call_command(
        "import_sensors", str(Path(__file__).resolve().parents[2] / "sensors/demo_data/melbourne-sensor-locations.csv"),
        "--mapping", "melbourne", "--controller", "city-of-melbourne", "--sensor-type", "counting-camera",
        stdout=StringIO(),
    )  # fmt: skip
    counts = make_dataset(
        melbourne_city,
        code="hourly-pedestrian-count",
        # Removed sensors keep feeding the dataset: their counts from their service life are accepted.
        sensors=list(Sensor.objects.filter(controller=melbourne_city)),
    )
    _, key = api_key_for(melbourne_city, role=Role.INTEGRATOR)
    text = (DATA / "melbourne-hourly-counts-2011-01.csv").read_text()
    out, err = StringIO(), StringIO()
    call_command(
        "push_melbourne_counts", str(DATA / "melbourne-hourly-counts-2011-01.csv"), "--url", live_server.url,
        "--key", key, "--dataset", str(counts.pk), "--batch-size", "4000", stdout=out, stderr=err,
    )  # fmt: skip
    expected = csv_sums(text)
    feeding = {s.name: s for s in counts.sensors.all()}
    stored_any = 0
    for column, total in expected.items():
        sensor = feeding.get(melbourne.ALIASES.get(column, column))
        stored = (
            Record.objects.unguarded("integrity").filter(dataset=counts, sensor=sensor).aggregate(s=Sum("count"))["s"]
        )
        rolled = (
            RecordRollup.objects.unguarded("integrity")
            .filter(dataset=counts, sensor=sensor)
            .aggregate(s=Sum("count"))["s"]
        )
        if sensor is None or sensor.installed_at.year > 2011:
            assert stored is None, column  # unknown, or installed later: refused, never half-stored
            continue
        assert stored == total == rolled, column
        stored_any += 1
    removed = [s for s in feeding.values() if s.status == "removed" and s.installed_at.year <= 2010]
    assert removed and all(Record.objects.unguarded("integrity").filter(sensor=s).exists() for s in removed)
    assert stored_any >= 10
    assert "rejected by the API: sensor_not_installed: " in out.getvalue(), out.getvalue()
    assert " rejected." in out.getvalue()
    dated = [row for row in csv.reader(StringIO(text)) if row and row[0]][1:]
    empty = sum(1 for row in dated for cell in row[2:] if not cell.strip())
    assert f"missing cells (no record): {empty} (empty {empty}, -1 0, undefined 0)" in out.getvalue()
    assert "empty rows skipped: 8016" in out.getvalue()

    again = StringIO()
    call_command(
        "push_melbourne_counts", str(DATA / "melbourne-hourly-counts-2011-01.csv"), "--url", live_server.url,
        "--key", key, "--dataset", str(counts.pk), stdout=again, stderr=StringIO(),
    )  # fmt: skip
    assert " 0 created, 0 updated," in again.getvalue()


@pytest.mark.django_db
def test_retention_deletes_exactly_what_expired(city, gates, key_client):
    dataset = make_dataset(city, sensors=gates, retention_days=10)
    now = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    cutoff = now - timedelta(days=10)  # 2026-02-19 12:30
    starts = [cutoff - timedelta(hours=2), cutoff - timedelta(minutes=20), cutoff, cutoff + timedelta(minutes=10)]
    for n, start in enumerate(starts):
        end = start + timedelta(minutes=5)
        Record.objects.unguarded("integrity").create(
            dataset=dataset,
            sensor=gates[0],
            observed_from=start,
            observed_to=end,
            count_in=n + 1,
            count_out=0,
            count=n + 1,
        )
    from datasets import rollups

    dataset.retention_days = 36_500  # recomputed while kept (today, the buckets lie before a 10-day cutoff)
    rollups.refresh(dataset, {(gates[0].pk, rollups.bucket_of(s)) for s in starts})
    dataset.retention_days = 10
    other = make_dataset(city, sensors=gates, retention_days=1000)
    Record.objects.unguarded("integrity").create(dataset=other, sensor=gates[0], observed_from=starts[0], count=7)

    run = dataset_retention_enforce(dataset=dataset, now=now, batch_size=1)
    assert run.records_deleted == 2
    assert (
        sorted(Record.objects.unguarded("integrity").filter(dataset=dataset).values_list("observed_from", flat=True))
        == starts[2:]
    )
    # The rollups outlive the records they came from (their own retention is 3650 days by default).
    kept = {r.bucket: r.count for r in RecordRollup.objects.unguarded("integrity").filter(dataset=dataset)}
    assert kept == {
        datetime(2026, 2, 19, 10, 30, tzinfo=UTC): 1,
        datetime(2026, 2, 19, 12, 0, tzinfo=UTC): 2,
        datetime(2026, 2, 19, 12, 30, tzinfo=UTC): 3 + 4,
    }
    assert run.rollups_deleted == 0
    assert Record.objects.unguarded("integrity").filter(dataset=other).count() == 1
    assert RetentionRun.objects.get(dataset=dataset).cutoff == cutoff

    out = StringIO()  # today is long past the records: the command deletes the rest, and nothing else
    call_command("enforce_retention", stdout=out)
    assert f"dataset {dataset.pk} (crowd-count-line of Gemeente Stad): 2 records" in out.getvalue()
    assert not Record.objects.unguarded("integrity").filter(dataset=dataset).exists()
    assert Record.objects.unguarded("integrity").filter(dataset=other).count() == 1
