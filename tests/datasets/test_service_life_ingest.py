"""Records are accepted for any moment their sensor was in service, whatever its status today
(sensors/service_life.py), and refused outside it with the reason and a stable code."""

from datetime import datetime, timedelta

import pytest

from accounts.models import Role
from datasets.models import Record
from sensors.models import ActivePeriod, SensorStatus, Suspension
from tests.datasets.conftest import RECORDS, count_record, make_dataset, make_sensor

pytestmark = pytest.mark.django_db


def at(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def post(client, dataset, records, partial=True):
    url = RECORDS.format(dataset.pk) + ("?partial=true" if partial else "")
    return client.post(url, {"records": records}, format="json")


def hour(start):
    """A five-minute count starting at `start`."""
    begin = at(start)
    end = begin + timedelta(minutes=5)
    return count_record("14", start, end.isoformat().replace("+00:00", "Z"))


def stored_starts():
    return sorted(Record.objects.unguarded("integrity").values_list("observed_from", flat=True))


@pytest.fixture
def removed_sensor(city):
    """Melbourne's sensor 14: installed 2019-09-25, removed 2020-03-01 (removed today)."""
    return make_sensor(
        city,
        city,
        "14",
        installed_at=at("2019-09-25T00:00:00Z"),
        removed_at=at("2020-03-01T00:00:00Z"),
        status=SensorStatus.REMOVED,
    )


def test_historic_data_of_a_removed_sensor_is_ingested_and_data_after_its_removal_refused(
    owner_client, city, removed_sensor
):
    dataset = make_dataset(city, sensors=[removed_sensor])
    records = [
        hour("2019-09-24T23:55:00Z"),  # before installation
        hour("2019-09-25T00:00:00Z"),  # exactly at installation: in service
        hour("2020-02-29T23:55:00Z"),  # the last five minutes
        hour("2020-03-01T00:00:00Z"),  # exactly at removal: out of service
    ]
    response = post(owner_client, dataset, records)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] == 2
    assert stored_starts() == [at("2019-09-25T00:00:00Z"), at("2020-02-29T23:55:00Z")]
    errors = {e["pointer"]: (e["code"], e["detail"]) for e in body["errors"]}
    assert errors == {
        "/records/0/sensor": ("sensor_not_installed", "Sensor 14 was installed on 2019-09-25, after this record."),
        "/records/3/sensor": ("sensor_removed", "Sensor 14 was removed on 2020-03-01, before this record."),
    }


def test_a_suspension_in_the_middle(owner_client, city):
    sensor = make_sensor(city, city, "14", installed_at=at("2020-01-01T00:00:00Z"))
    Suspension.objects.create(sensor=sensor, starts_at=at("2020-02-01T10:00:00Z"), ends_at=at("2020-02-03T08:30:00Z"))
    dataset = make_dataset(city, sensors=[sensor])
    records = [
        hour("2020-02-01T09:55:00Z"),  # before: accepted
        hour("2020-02-01T10:00:00Z"),  # at the start of the suspension: refused
        hour("2020-02-02T12:00:00Z"),  # during: refused
        hour("2020-02-03T08:25:00Z"),  # the last five minutes of it: refused
        hour("2020-02-03T08:30:00Z"),  # exactly at the resumption: accepted
    ]
    body = post(owner_client, dataset, records).json()
    assert stored_starts() == [at("2020-02-01T09:55:00Z"), at("2020-02-03T08:30:00Z")]
    assert [e["pointer"] for e in body["errors"]] == [f"/records/{n}/sensor" for n in (1, 2, 3)]
    assert {e["code"] for e in body["errors"]} == {"sensor_suspended"}
    assert body["errors"][0]["detail"] == (
        "Sensor 14 was suspended from 2020-02-01 10:00:00 UTC to 2020-02-03 08:30:00 UTC."
    )


def test_an_active_period_ends_before_its_end(owner_client, city):
    sensor = make_sensor(city, city, "14", installed_at=None)
    ActivePeriod.objects.create(sensor=sensor, starts_at=at("2026-06-26T10:00:00Z"), ends_at=at("2026-06-28T22:00:00Z"))
    dataset = make_dataset(city, sensors=[sensor])
    body = post(owner_client, dataset, [hour("2026-06-28T21:55:00Z"), hour("2026-06-28T22:00:00Z")]).json()
    assert stored_starts() == [at("2026-06-28T21:55:00Z")]
    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [("/records/1/sensor", "sensor_not_in_period")]


def test_a_removed_sensor_still_feeds_its_dataset_through_the_api(key_client, city, removed_sensor):
    dataset = make_dataset(city, sensors=[])
    response = key_client(city, Role.DATA_STEWARD).patch(
        f"/api/v1/datasets/{dataset.pk}/", {"sensors": [removed_sensor.pk]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert list(dataset.sensors.all()) == [removed_sensor]


def test_an_unknown_reference_is_still_answered_as_unknown(owner_client, city, removed_sensor):
    """No oracle: a removed sensor that does not feed the dataset is as unknown as one that does not exist."""
    dataset = make_dataset(city, sensors=[])
    for reference in ("14", "nowhere"):
        error = post(owner_client, dataset, [count_record(reference)], partial=False).json()["errors"][0]
        assert (error["code"], error["detail"]) == (
            "unknown_sensor",
            f"No sensor with reference {reference!r} feeds this dataset.",
        )
