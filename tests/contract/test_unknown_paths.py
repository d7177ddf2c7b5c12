"""Unknown API paths answer 404 problem+json whatever the method, never Django's HTML CSRF page."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def csrf_client():
    # As a browser or a fuzzer sends it: no CSRF token (the test client skips the check unless asked).
    return APIClient(enforce_csrf_checks=True)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/v1/areas/0.5/", "/api/v1/sensors/0.5/confirm/"])
def test_unsafe_methods_on_unknown_api_paths_answer_404_problem(csrf_client, method, path):
    response = getattr(csrf_client, method)(path, {"note": ""}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "not_found"


def test_pages_keep_django_csrf_page(csrf_client):
    response = csrf_client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
