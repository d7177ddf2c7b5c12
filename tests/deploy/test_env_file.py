"""The local env file (.env): read by the settings under the real environment."""

import secrets
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import envfile
from tests.deploy.conftest import PROJECT, fresh_shell_env


def test_the_common_dotenv_forms_are_read():
    text = "\n".join(
        [
            "# a comment",
            "",
            "DJANGO_DEBUG=true",
            "export DATABASE_URL = postgres://u@h/db",
            "DJANGO_SECRET_KEY='a#b c'",
            'DJANGO_TIME_ZONE="Europe/Amsterdam"',
            "DJANGO_LOG_LEVEL=INFO # a trailing comment",
            "DJANGO_MAP_TILE_URL=https://tile.example/{z}/{x}/{y}.png#frag",
        ]
    )
    assert envfile.parse(text) == {
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": "postgres://u@h/db",
        "DJANGO_SECRET_KEY": "a#b c",
        "DJANGO_TIME_ZONE": "Europe/Amsterdam",
        "DJANGO_LOG_LEVEL": "INFO",
        "DJANGO_MAP_TILE_URL": "https://tile.example/{z}/{x}/{y}.png#frag",
    }


def test_a_line_that_is_no_setting_is_refused_with_its_number():
    with pytest.raises(ImproperlyConfigured, match="line 2"):
        envfile.parse("DJANGO_DEBUG=true\nnot a setting\n")


def manage_check(tmp_path, env_file_text: str | None, **env) -> subprocess.CompletedProcess:
    env_file = tmp_path / "env"
    if env_file_text is not None:
        env_file.write_text(env_file_text)
    return subprocess.run(  # noqa: S603
        [
            sys.executable,
            "manage.py",
            "shell",
            "--no-imports",
            "-c",
            "from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=PROJECT,
        env=fresh_shell_env(DJANGO_ENV_FILE=str(env_file), DJANGO_DATA_DIR=str(tmp_path / "var"), **env),
        capture_output=True,
        text=True,
    )


def test_a_command_in_a_new_shell_takes_its_settings_from_the_env_file(tmp_path):
    result = manage_check(tmp_path, f"DJANGO_DEBUG=true\nDJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n")
    assert (result.returncode, result.stdout.strip()) == (0, "True"), result.stderr


def test_the_environment_wins_over_the_env_file(tmp_path):
    # Production's real variables: DEBUG off, and so the weak key of a stray file is refused.
    result = manage_check(tmp_path, "DJANGO_DEBUG=true\nDJANGO_SECRET_KEY=weak\n", DJANGO_DEBUG="false")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is weak" in result.stderr


def test_a_named_env_file_that_is_missing_is_an_error(tmp_path):
    result = manage_check(tmp_path, None)
    assert result.returncode != 0
    assert "DJANGO_ENV_FILE names" in result.stderr
