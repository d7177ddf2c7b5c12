"""OPTIONS (DRF's metadata) answers 200 on every scoped endpoint: it reads no rows, so the scope check skips it."""

import pytest

from accounts.models import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/grants/", "/api/v1/sensors/", "/api/v1/areas/", "/api/v1/api-keys/"])
def test_options_on_a_scoped_list_answers_200(organisation, key_client, path):
    response = key_client(organisation, Role.ADMIN).options(path)
    assert response.status_code == 200, response.content
    assert "GET" in response["Allow"]
