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


def _race(city, first: str):
    """A batch of five-minute counts of sensor 14 from 2020-01-01, and its removal at 2020-01-01 by its
    controller, in two transactions; `first` holds its transaction open while the other starts."""
    import threading

    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.selectors import caller_from
    from datasets import partitions, records, storage
    from sensors import services
    from sensors.models import SensorEvent
    from tests.factories import api_key_for

    sensor = make_sensor(city, city, "14", installed_at=at("2019-09-25T00:00:00Z"), confirmed_at=timezone.now())
    dataset = make_dataset(city, sensors=[sensor])
    # The month has its partition (a batch's own transaction does not create one: datasets.partitions).
    partitions.months_create({partitions.month_of(at("2020-01-01T00:00:00Z"))})
    steward = caller_from(user=None, api_key=api_key_for(city, role=Role.DATA_STEWARD)[0])
    items = [(None, hour(f"2020-01-0{day}T10:00:00Z")) for day in range(1, 6)]
    holding, release, results, errors = threading.Event(), threading.Event(), {}, []

    def ingest():
        try:
            with transaction.atomic():
                prepared = records.prepare(dataset=dataset, items=items, now=timezone.now(), operator_ids=None)
                if first == "ingest":
                    holding.set()
                    release.wait(10)
                results["refused"] = len(prepared.rejected_indexes)
                rows = [row for row in prepared.rows if row.index not in prepared.rejected_indexes]
                storage.store(dataset=dataset, rows=rows, batch_id=None)
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection

    def remove():
        try:
            with transaction.atomic():
                removed = services.sensor_transition(
                    caller=steward, sensor=sensor, action=SensorEvent.Action.REMOVED, at=at("2020-01-01T00:00:00Z")
                )
                results["outside"] = removed.records_outside_service["count"]
                if first == "removal":
                    holding.set()
                    release.wait(10)
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = {"ingest": threading.Thread(target=ingest), "removal": threading.Thread(target=remove)}
    second = next(name for name in threads if name != first)
    threads[first].start()
    assert holding.wait(10)
    threads[second].start()
    threads[second].join(1.0)
    results["second_waited"] = threads[second].is_alive()
    release.set()
    for thread in threads.values():
        thread.join(10)
    assert not errors, errors
    results["stored"] = len(stored_starts())
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_removal_during_a_batch_waits_for_it_and_names_what_it_stored(city):
    """The ingest holds FOR SHARE locks on the sensors it resolved, service-life changes take FOR UPDATE:
    a removal committed while a batch is being stored waits for it, and its answer counts those records."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    results = _race(city, first="ingest")
    assert results == {"second_waited": True, "refused": 0, "stored": 5, "outside": 5}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_batch_during_a_removal_waits_for_it_and_refuses_what_lies_after_it(city):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    results = _race(city, first="removal")
    assert results == {"second_waited": True, "outside": 0, "refused": 5, "stored": 0}
