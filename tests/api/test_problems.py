"""Every error class answers problem+json (RFC 9457) with a stable code, and never a stack trace."""

import pytest
from django.urls import path
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from accounts.models import ApiKey, Role
from api.problems import error_pointers
from config.urls import urlpatterns as root_patterns

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def boom(request):
    raise RuntimeError("secret internals: password=hunter2")


urlpatterns = [path("api/v1/boom/", boom), *root_patterns]
handler500 = "api.problems.server_error"


def assert_problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:crowd-data-platform:problem:{code}"
    assert body["title"] and body["detail"]
    return body


def test_401_without_credentials(api_client):
    assert_problem(api_client.get("/api/v1/organisations/"), 401, "not_authenticated")


def test_403_for_a_missing_role(organisation, key_client):
    assert_problem(key_client(organisation, Role.ANALYST).get("/api/v1/api-keys/"), 403, "permission_denied")


@pytest.mark.smoke
@pytest.mark.parametrize("debug", [False, True])
def test_404_for_an_unknown_api_path(api_client, settings, debug):
    settings.DEBUG = debug
    body = assert_problem(api_client.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert body["instance"] == "/api/v1/no-such-thing/"


def test_404_for_an_unknown_object(organisation, key_client):
    assert_problem(key_client(organisation).get("/api/v1/api-keys/nosuchpr/"), 404, "not_found")


def test_pages_keep_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_405_for_a_wrong_method(organisation, key_client):
    assert_problem(key_client(organisation).delete("/api/v1/me/"), 405, "method_not_allowed")


def test_413_for_a_body_over_the_limit(organisation, key_client, settings):
    settings.REQUEST_BODY_MAX_BYTES = 1000
    body = '{"name": "' + "x" * 2000 + '"}'
    response = key_client(organisation).post("/api/v1/api-keys/", body, content_type="application/json")
    problem = assert_problem(response, 413, "request_too_large")
    assert problem["max_bytes"] == 1000
    assert ApiKey.objects.filter(organisation=organisation).count() == 1  # only the caller's own key


def test_415_for_an_unsupported_content_type(organisation, key_client):
    response = key_client(organisation).post("/api/v1/api-keys/", "name=k", content_type="text/plain")
    assert_problem(response, 415, "unsupported_media_type")


def test_400_for_malformed_json(organisation, key_client):
    response = key_client(organisation).post("/api/v1/api-keys/", "{not json", content_type="application/json")
    assert_problem(response, 400, "parse_error")


def test_422_names_each_bad_field_with_a_pointer(organisation, key_client):
    response = key_client(organisation).post("/api/v1/api-keys/", {"name": "x" * 51, "role": "boss"})
    body = assert_problem(response, 422, "validation_error")
    assert {e["pointer"] for e in body["errors"]} == {"/name", "/role"}
    assert all(e["detail"] for e in body["errors"])


def test_429_when_throttled(organisation, key_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "3/min", "user": "3/min", "anon": "2/min"},
    }
    client = key_client(organisation)
    assert [client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/api/v1/me/")
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    # Throttling is per key: another key of the same organisation is not affected.
    assert key_client(organisation).get("/api/v1/me/").status_code == 200
    anonymous = APIClient()
    assert [anonymous.get("/api/schema/").status_code for _ in range(2)] == [200, 200]
    assert_problem(anonymous.get("/api/schema/"), 429, "throttled")


@pytest.mark.urls(__name__)
def test_500_without_a_stack_trace(client):
    client.raise_request_exception = False
    response = client.get("/api/v1/boom/")
    assert response.status_code == 500
    assert response["Content-Type"] == PROBLEM
    text = response.content.decode()
    assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert response.json()["code"] == "server_error"


def test_error_pointers_flatten_nested_details():
    detail = {
        "records": [{}, {"count_in": ["Must be at least 0."]}],
        api_settings.NON_FIELD_ERRORS_KEY: ["Bad combination."],
        "a/b~c": ["Escaped."],
    }
    assert error_pointers(detail) == [
        {"pointer": "/records/1/count_in", "detail": "Must be at least 0.", "code": "invalid"},
        {"pointer": "", "detail": "Bad combination.", "code": "invalid"},
        {"pointer": "/a~1b~0c", "detail": "Escaped.", "code": "invalid"},
    ]
