"""Answers that list errors say how many there were and whether the list was cut, and the batch keeps the
number of records refused per reason (issue 9: `errors` was cut at 1,000 without saying so)."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from accounts.models import Role
from datasets.models import IngestBatch, Record
from tests.datasets.conftest import RECORDS, count_record

pytestmark = pytest.mark.django_db


def many(n, **bad):
    start = datetime(2026, 1, 5, tzinfo=UTC)
    return [
        count_record(
            start=(start + timedelta(minutes=5 * i)).isoformat(),
            end=(start + timedelta(minutes=5 * i + 5)).isoformat(),
            **bad,
        )
        for i in range(n)
    ]


def body(records):
    return orjson.dumps({"records": records})


@pytest.mark.parametrize("partial", [True, False])
def test_more_than_1000_errors_are_cut_and_say_so(owner_client, dataset, partial):
    records = many(1200, count_in=-1)
    records[0] = count_record(start="2025-01-01T00:00:00Z", end="2025-01-01T00:05:00Z")  # one good
    records[1] = dict(records[1], sensor="nowhere", count_in=1)
    path = RECORDS.format(dataset.pk) + ("?partial=true" if partial else "")
    response = owner_client.post(path, body(records), content_type="application/json")
    answer = response.json()
    assert response.status_code == (201 if partial else 422), response.content
    assert (len(answer["errors"]), answer["errors_total"], answer["errors_truncated"]) == (1000, 1199, True)
    batch = IngestBatch.objects.get()
    assert batch.rejected_by_reason == {"out_of_range": 1198, "unknown_sensor": 1}
    listed = owner_client.get(f"/api/v1/datasets/{dataset.pk}/batches/").json()["results"][0]
    assert listed["rejected_by_reason"] == {"out_of_range": 1198, "unknown_sensor": 1}
    assert Record.objects.unguarded("integrity").count() == (1 if partial else 0)


def test_a_short_list_says_it_is_whole(owner_client, dataset):
    records = [count_record(), count_record(start="2026-01-05T10:05:00Z", end="2026-01-05T10:10:00Z", count_in=-1)]
    answer = owner_client.post(
        RECORDS.format(dataset.pk) + "?partial=true", body(records), content_type="application/json"
    ).json()
    assert (len(answer["errors"]), answer["errors_total"], answer["errors_truncated"]) == (1, 1, False)
    csv = "sensor,observed_from,observed_to,count_in,count_out\ngate-1,2026-01-05T11:00:00Z,2026-01-05T11:05:00Z,x,1\n"
    refused = owner_client.post(RECORDS.format(dataset.pk), csv, content_type="text/csv").json()
    assert (refused["errors_total"], refused["errors_truncated"]) == (2, False)  # not a number, so missing
    assert IngestBatch.objects.get(pk=refused["batch"]).rejected_by_reason == {"invalid": 1, "schema": 1}


def test_a_sensor_import_says_how_many_errors_there_were(city, key_client):
    steward_client = key_client(city, Role.ADMIN)
    header = "reference,name,latitude,longitude\n"
    rows = "".join(f"s-{i},S {i},520.0,5.0\n" for i in range(3))
    response = steward_client.post(
        "/api/v1/sensors/import/?controller=stad&sensor_type=thermal-counter", header + rows, content_type="text/csv"
    )
    answer = response.json()
    assert response.status_code == 422, answer
    assert answer["errors_total"] == len(answer["errors"]) >= 3 and answer["errors_truncated"] is False
