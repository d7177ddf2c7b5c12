"""/healthz and /readyz answer a probe as it comes: any Host, plain HTTP, no credentials, no throttle."""

import pytest
from django.test import Client

from tests.deploy.conftest import PROJECT


@pytest.fixture
def probe(settings):
    # As in production: TLS redirect on, the site's own host name only, a tight anonymous throttle.
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["crowd.example.org"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "1/min"},
    }
    return Client(HTTP_HOST="10.1.2.3:8000")  # an orchestrator probes the pod by its address


def test_liveness_answers_any_host_over_plain_http_however_often(probe):
    for _ in range(5):
        response = probe.get("/healthz")
        assert (response.status_code, response.json()) == (200, {"status": "ok"})
        assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readiness_answers_when_the_database_does(probe, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = probe.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert probe.head("/readyz").status_code == 200


def test_probes_take_only_get_and_head(probe):
    response = probe.post("/healthz")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert response["Allow"] == "GET, HEAD"


def test_the_probes_are_not_api_operations():
    schema = (PROJECT / "docs/openapi.yaml").read_text()
    assert "/healthz" not in schema and "/readyz" not in schema
