"""DATABASE_REPLICA_URL and DATABASE_REPLICA_MAX_LAG as the settings read them (docs/deployment.md)."""

import json

from tests.test_settings import manage

SHOW = (
    "import json; from django.conf import settings as s; "
    "r = s.DATABASES.get('replica'); "
    "print(json.dumps({'replica': r and {k: r[k] for k in ('HOST', 'NAME', 'OPTIONS', 'TEST')}, "
    "'lag': s.DATABASE_REPLICA_MAX_LAG, 'routers': s.DATABASE_ROUTERS}))"
)
SECRET = "replica-settings-test-" + "k3y" * 15


def shown(**env):
    result = manage("shell", "-c", SHOW, DJANGO_DEBUG="false", DJANGO_SECRET_KEY=SECRET, **env)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_a_replica_url_there_is_no_replica_alias():
    assert shown() == {"replica": None, "lag": 5, "routers": ["api.replica.ReplicaRouter"]}


def test_a_replica_url_adds_the_alias_with_a_short_connect_timeout_and_mirrors_under_tests():
    settings = shown(DATABASE_REPLICA_URL="postgres://reader@replica.internal:5432/crowd", DATABASE_REPLICA_MAX_LAG="2")
    assert settings["replica"]["HOST"] == "replica.internal"
    assert settings["replica"]["NAME"] == "crowd"
    assert settings["replica"]["OPTIONS"]["connect_timeout"] == 2
    assert settings["replica"]["TEST"]["MIRROR"] == "default"  # the test runner creates no database there
    assert settings["lag"] == 2


def test_a_replica_that_is_no_postgres_or_a_negative_lag_is_refused():
    result = manage(
        "check", DJANGO_DEBUG="false", DJANGO_SECRET_KEY=SECRET, DATABASE_REPLICA_URL="sqlite:///tmp/x.sqlite3"
    )
    assert result.returncode != 0 and "DATABASE_REPLICA_URL must be a postgres:// URL" in result.stderr
    result = manage("check", DJANGO_DEBUG="false", DJANGO_SECRET_KEY=SECRET, DATABASE_REPLICA_MAX_LAG="-1")
    assert result.returncode != 0 and "DATABASE_REPLICA_MAX_LAG must be 0 or more seconds" in result.stderr
