"""Settings come from the environment; production refuses to start without a secret key."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


def manage(*args, **env):
    # DJANGO_ENV_FILE="": not a developer's .env either; only what the test sets.
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")} | {"DJANGO_ENV_FILE": ""}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env={**base, **env},
        capture_output=True,
        text=True,
    )


@pytest.mark.smoke
def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DJANGO_DEBUG="false")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("change-me-to-50-or-more-random-characters", "placeholder"),  # .env.example's, as copied
        ("x", "weak"),
        ("x" * 60, "weak"),  # long, but four characters or fewer
        ("django-insecure-" + secrets.token_urlsafe(50), "django-insecure-"),
    ],
)
def test_production_refuses_a_placeholder_or_weak_secret_key(key, reason):
    result = manage("check", DJANGO_DEBUG="false", DJANGO_SECRET_KEY=key)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and reason in result.stderr


def test_the_example_environment_does_not_start_production():
    example = dict(
        line.split("=", 1) for line in (PROJECT / ".env.example").read_text().splitlines() if line and line[0] != "#"
    )
    result = manage("check", **{k: v for k, v in example.items() if k.startswith("DJANGO_")})
    assert result.returncode != 0
    assert "placeholder" in result.stderr


def test_debug_runs_without_a_secret_key():
    result = manage("check", DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="crowd.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_malformed_boolean_is_refused():
    result = manage("check", DJANGO_DEBUG="perhaps")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false" in result.stderr


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("lots", "must be a number"),
        ("nan", "must be a number"),
        ("inf", "must be a number"),
        ("-1", "must not be negative"),
    ],
)
def test_a_malformed_privacy_budget_default_is_refused(value, why):
    result = manage("check", DJANGO_DEBUG="true", DJANGO_PRIVACY_BUDGET_DEFAULT_EPSILON=value)
    assert result.returncode != 0
    assert f"DJANGO_PRIVACY_BUDGET_DEFAULT_EPSILON {why}" in result.stderr


def test_database_url_selects_the_database(settings):
    engine = settings.DATABASES["default"]["ENGINE"]
    expected = "sqlite3" if os.environ.get("DATABASE_URL", "").startswith("sqlite") else "postgresql"
    assert engine.endswith(expected)


MAP_SETTINGS = (
    "import json; from django.conf import settings as s; "
    "print(json.dumps([s.MAP_TILE_URL, s.MAP_TILE_ATTRIBUTION, s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']]))"
)
BRT = "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png"


@pytest.mark.parametrize(
    ("env", "url", "attribution", "img_src"),
    [
        # Unset: OpenStreetMap's standard tiles, with their attribution linked to their copyright page.
        (
            {},
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
            ["'self'", "data:", "https://tile.openstreetmap.org"],
        ),
        # The Dutch government's background map (docs/deployment.md): its host, its attribution.
        (
            {"DJANGO_MAP_TILE_URL": BRT, "DJANGO_MAP_TILE_ATTRIBUTION": "Kaartgegevens &copy; Kadaster"},
            BRT,
            "Kaartgegevens &copy; Kadaster",
            ["'self'", "data:", "https://service.pdok.nl"],
        ),
        # Another server without an attribution set: never OpenStreetMap's words under someone else's tiles.
        ({"DJANGO_MAP_TILE_URL": BRT}, BRT, "", ["'self'", "data:", "https://service.pdok.nl"]),
        # Empty: no tiles, and images from this site only.
        ({"DJANGO_MAP_TILE_URL": ""}, "", "", ["'self'", "data:"]),
    ],
)
def test_the_map_tiles_default_to_openstreetmap_and_the_policy_follows_the_setting(env, url, attribution, img_src):
    result = manage("shell", "-c", MAP_SETTINGS, DJANGO_DEBUG="true", **env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [url, attribution, img_src]
