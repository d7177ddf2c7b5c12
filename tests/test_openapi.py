"""The OpenAPI document: valid, complete (tags, summaries, errors) and committed up to date."""

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

PROJECT = Path(__file__).resolve().parents[1]
COMMITTED = PROJECT / "docs" / "openapi.yaml"
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    target = tmp_path_factory.mktemp("openapi") / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target), stdout=StringIO())
    return target.read_text()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def test_the_committed_document_is_current(generated):
    assert COMMITTED.read_text() == generated, "docs/openapi.yaml is stale: run `make schema` and commit it"


def test_every_operation_has_a_tag_a_summary_and_problem_responses(generated):
    document = yaml.safe_load(generated)
    found = list(operations(document))
    assert found
    for name, operation in found:
        assert operation.get("tags"), name
        assert operation.get("summary"), name
        assert "429" in operation["responses"], name
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert "application/problem+json" in response["content"], (name, status)
        if operation.get("security") and any(operation["security"]):
            assert {"401", "403"} <= set(operation["responses"]), name


def test_api_key_security_scheme_is_documented(generated):
    document = yaml.safe_load(generated)
    scheme = document["components"]["securitySchemes"]["ApiKeyAuth"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "Authorization"}


@pytest.mark.django_db
@pytest.mark.smoke
@pytest.mark.parametrize(("url", "marker"), [("/api/docs/", "swagger-ui"), ("/api/redoc/", "redoc")])
def test_the_docs_viewers_are_served_from_our_own_static_files(client, url, marker):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn.jsdelivr" not in html and "unpkg" not in html
    assert marker in html
