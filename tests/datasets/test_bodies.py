"""What an ingest endpoint answers to a body it cannot use, the same in every format (issue 9): an empty
batch is 422 `no_records` and logs no batch; a missing Content-Type and a body that is not UTF-8 say so."""

import orjson
import pytest

from datasets.models import IngestBatch, Record
from tests.datasets.conftest import RECORDS, count_record, make_dataset, make_sensor

pytestmark = pytest.mark.django_db

HEADER = b"sensor,observed_from,observed_to,count_in,count_out\n"
EMPTY = [
    ("application/json", b""),
    ("application/json", b"  \n"),
    ("application/json", b'{"records": []}'),
    ("application/x-ndjson", b""),
    ("application/x-ndjson", b"\n\n"),
    ("text/csv", b""),
    ("text/csv", HEADER),
    ("text/csv", HEADER + b",,,,\n"),
]


def problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code, body
    return body


@pytest.mark.parametrize(("content_type", "body"), EMPTY)
def test_an_empty_batch_is_one_answer_in_every_format(owner_client, dataset, content_type, body):
    response = owner_client.post(RECORDS.format(dataset.pk), body, content_type=content_type)
    assert "Send at least one record." in problem(response, 422, "no_records")["detail"]
    assert not IngestBatch.objects.exists() and not Record.objects.unguarded("integrity").exists()


@pytest.mark.parametrize("body", [b"", b"[]"])
def test_an_empty_fiware_batch_is_the_same_answer(owner_client, city, body):
    flows = make_dataset(city, code="crowd-flow", sensors=[make_sensor(city, city, "flow-1")])
    response = owner_client.post(RECORDS.format(flows.pk) + "fiware/", body, content_type="application/json")
    problem(response, 422, "no_records")
    assert not IngestBatch.objects.exists()


def test_csv_rows_with_extra_cells_are_refused_not_trimmed(owner_client, dataset):
    csv = HEADER + b"gate-1,2026-01-05T10:00:00Z,2026-01-05T10:05:00Z,1,1,7\n"
    body = problem(owner_client.post(RECORDS.format(dataset.pk), csv, content_type="text/csv"), 400, "parse_error")
    assert body["errors"][0]["line"] == 2
    assert not Record.objects.unguarded("integrity").exists()


@pytest.mark.parametrize("path", [RECORDS, RECORDS + "fiware/"])
def test_a_missing_content_type_is_named(owner_client, dataset, path):
    body = orjson.dumps({"records": [count_record()]})
    response = owner_client.generic("POST", path.format(dataset.pk), body, content_type="")
    body = problem(response, 415, "unsupported_media_type")
    assert body["detail"].startswith("The request has no Content-Type; send application/")
    wrong = owner_client.post(path.format(dataset.pk), "x", content_type="text/plain")
    assert "not text/plain" in problem(wrong, 415, "unsupported_media_type")["detail"]


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        (RECORDS, "application/json", '{"records": [{"sensor": "gäte-1"}]}'.encode("latin-1")),
        (RECORDS, "application/x-ndjson", '{"sensor": "gäte-1"}'.encode("latin-1")),
        (RECORDS, "text/csv", HEADER + "gäte-1,,,,\n".encode("latin-1")),
        (RECORDS + "fiware/", "application/json", '[{"id": "gäte-1"}]'.encode("latin-1")),
    ],
)
def test_a_body_that_is_not_utf8_says_so(owner_client, dataset, path, content_type, body):
    response = owner_client.post(path.format(dataset.pk), body, content_type=content_type)
    assert "not UTF-8" in problem(response, 400, "not_utf8")["detail"]


@pytest.mark.parametrize(
    ("content_type", "body", "pointer"),
    [
        ("application/json", b"", ""),
        ("application/json", b'{"records": []}', "/records"),
        ("application/json", b'{"records": 5}', "/records"),
        ("application/json", b"[1, 2]", ""),
        ("application/json", b'{"records": [', ""),
        ("application/json", b"\xff\xfe{}", ""),
        ("text/csv", b"", ""),
    ],
)
def test_a_refused_body_points_at_what_is_wrong(owner_client, dataset, content_type, body, pointer):
    # Review of issue 9: body-level refusals had no `errors` at all; "" points at the whole body (RFC 6901).
    response = owner_client.post(RECORDS.format(dataset.pk), body, content_type=content_type)
    assert response.status_code in (400, 422), response.content
    assert [error["pointer"] for error in response.json()["errors"]] == [pointer]


def test_a_json_body_with_a_byte_order_mark_is_read_like_csv(owner_client, dataset):
    body = b"\xef\xbb\xbf" + orjson.dumps({"records": [count_record()]})
    response = owner_client.post(RECORDS.format(dataset.pk), body, content_type="application/json")
    assert response.status_code == 201, response.content


def test_only_a_negative_count_is_told_that_a_missing_value_is_no_record(owner_client, dataset):
    for count, hint in ((-1, True), (2**63 - 1, False)):
        response = owner_client.post(
            RECORDS.format(dataset.pk), {"records": [count_record(count_in=count)]}, format="json"
        )
        assert response.status_code == 422, response.content
        assert ("never a negative count" in response.json()["errors"][0]["detail"]) is hint, count
