"""A chunked body (Transfer-Encoding: chunked, no Content-Length) is read when the server decoded it
(`wsgi.input_terminated`, as gunicorn does: tests/robustness/test_live_database.py), else 411."""

import io
import json

import pytest

from sensors.models import Area
from tests.robustness.conftest import SQUARE, assert_problem

pytestmark = pytest.mark.django_db

BODY = json.dumps({"name": "Plein", "area_type": "square", "geometry": SQUARE}).encode()


def post_chunked(client, body, **environ):
    return client.generic(
        "POST",
        "/api/v1/areas/",
        body,
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body), **environ},
    )


def test_a_chunked_body_the_server_decoded_is_read(steward):
    response = post_chunked(steward, BODY, **{"wsgi.input_terminated": True})
    assert response.status_code == 201, response.content
    assert Area.objects.get().name == "Plein"


def test_a_chunked_body_over_the_limit_is_413(steward, settings):
    settings.REQUEST_BODY_MAX_BYTES = len(BODY) - 1
    body = assert_problem(post_chunked(steward, BODY, **{"wsgi.input_terminated": True}), 413)
    assert body["max_bytes"] == len(BODY) - 1
    assert not Area.objects.exists()


def test_a_chunked_body_the_server_cannot_end_is_411(steward):
    body = assert_problem(post_chunked(steward, BODY), 411)
    assert body["code"] == "length_required"
    assert not Area.objects.exists()
