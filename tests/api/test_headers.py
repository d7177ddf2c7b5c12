"""What every answer carries in production: a Content-Security-Policy, and JSON rather than the browsable API."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/", "/register/", "/dashboard/", "/api/v1/schemas/", "/api/docs/", "/api/v1/no-such-thing/"]
)
def test_every_answer_has_a_strict_content_security_policy(client, path):
    policy = client.get(path)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"  # no inline script anywhere, no other host
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-eval" not in policy


def test_only_the_api_viewers_allow_inline_styles(client):
    assert "'unsafe-inline'" in client.get("/api/docs/")["Content-Security-Policy"]
    assert "'unsafe-inline'" not in client.get("/register/")["Content-Security-Policy"]


def test_the_map_tiles_host_is_allowed_for_images():
    from config.settings import tile_origin

    assert tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == ["https://*.tile.example.org"]
    assert tile_origin(
        "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png"
    ) == ["https://service.pdok.nl"]
    assert tile_origin("") == []


@pytest.mark.parametrize(
    "path", ["/api/v1/schemas/", "/api/v1/public/sensors/", "/api/v1/public/catalog/", "/api/v1/sensor-types/"]
)
def test_with_debug_off_a_browser_gets_json_not_the_browsable_api(client, path):
    """A browser's Accept header prefers HTML; production answers JSON (the browsable API is for DEBUG only)."""
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get(path, HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert not response["Content-Type"].startswith("text/html")
    assert client.get(path, {"format": "api"}).status_code == 404


def test_anonymous_throttling_ignores_a_forged_forwarded_for_header(client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "3/min"}}
    answers = [client.get("/api/v1/schemas/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code for n in range(5)]
    assert answers == [200, 200, 200, 429, 429]
