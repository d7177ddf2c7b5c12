"""The contract as schemathesis reads it: a response is checked against the OpenAPI document the code generates."""

import json
import re

import pytest
import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.config import SchemathesisConfig
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# What the live run checks on every response (the others re-send requests, which a test client cannot).
RESPONSE_CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="session")
def contract():
    document = SchemaGenerator().get_schema(request=None, public=True)
    # Schemathesis' defaults, not schemathesis.toml (that one configures the live run and its credentials).
    return schemathesis.openapi.from_dict(
        json.loads(OpenApiJsonRenderer().render(document)), config=SchemathesisConfig()
    )


@pytest.fixture
def assert_conforms(contract):
    """assert_conforms(method, path_template, response): status, Content-Type and body are as documented
    (schemathesis' own response checks; raises its failures)."""

    def check(method, template, response):
        url = "http://testserver" + response.wsgi_request.get_full_path()
        request = requests.Request(method.upper(), url).prepare()
        headers = {name.lower(): [value] for name, value in response.items()}
        answer = Response(
            status_code=response.status_code,
            headers=headers,
            content=response.content,
            request=request,
            elapsed=0.0,
            verify=True,
        )
        path = response.wsgi_request.path
        pattern = "^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        found = re.match(pattern, path)
        assert found, f"{path} is not an instance of {template}"
        operation = contract[template][method.upper()]
        operation.Case(path_parameters=found.groupdict()).validate_response(answer, checks=RESPONSE_CHECKS)
        return response

    return check
