"""The production entry point (scripts/serve), started for real: gunicorn with its config file, DEBUG off,
static files collected and served by WhiteNoise, health probes, no demo accounts, and X-Forwarded-For trusted
only as far as DJANGO_TRUSTED_PROXY_COUNT says."""

import json
import os
import re
import secrets
import sqlite3
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from tests.deploy.conftest import PROJECT, Server, free_port, fresh_shell_env, get

pytestmark = pytest.mark.deploy


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A database of its own for the served platform: on the test PostgreSQL server, or a SQLite file."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'serve.sqlite3'}", None
        return
    name = f"cdp_serve_{secrets.token_hex(4)}"
    admin = with_database(url, "postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop():
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    yield with_database(url, name), drop
    drop()


def count_rows(database_url: str, table: str) -> int:
    query = f"SELECT count(*) FROM {table}"  # noqa: S608 (a table name of ours)
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            return connection.execute(query).fetchone()[0]
    with psycopg.connect(database_url) as connection:
        return connection.execute(query).fetchone()[0]


@pytest.fixture(scope="module")
def served(tmp_path_factory, database):
    """One server for the module (starting it takes most of the time): the tests run in file order, the one
    that drops the database last."""
    tmp_path = tmp_path_factory.mktemp("serve")
    database_url, drop_database = database
    port = free_port()
    env = fresh_shell_env(
        DJANGO_ENV_FILE="",  # not a developer's .env: production has real environment variables
        DATABASE_URL=database_url,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_DATA_DIR=str(tmp_path / "data"),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false",  # plain HTTP on the loopback interface, as behind a TLS proxy
        DJANGO_TRUSTED_PROXY_COUNT="1",
        DJANGO_THROTTLE_ANON="3/min",
        # No cache setting: scripts/serve shares throttle counts between its workers by default (review of issue
        # 9: a per-worker cache let 240 of 300 anonymous requests through a limit of 120).
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        GUNICORN_ACCESS_LOG=str(tmp_path / "access.log"),
    )
    server = Server(["scripts/serve"], cwd=PROJECT, env=env, log=tmp_path / "serve.log")
    base = f"http://127.0.0.1:{port}"
    try:
        server.startup_seconds = server.wait_until_up(base + "/healthz")
        server.base, server.database_url, server.drop_database = base, database_url, drop_database
        server.access_log = tmp_path / "access.log"
        server.data_dir = tmp_path / "data"
        yield server
    finally:
        server.stop()


def static_url(html: str, pattern: str) -> str:
    match = re.search(rf'(?:src|href)="(/static/[^"]*{pattern}[^"]*)"', html)
    assert match, f"no {pattern} in the page:\n{html}"
    return match[1]


def assert_static_file(base: str, path: str, content_type: str) -> None:
    # Hashed names (manifest storage), so that they can be cached for good.
    assert re.search(r"\.[0-9a-f]{12}\.(js|css)$", path), path
    status, headers, body = get(base + path)
    assert status == 200, path
    assert headers["Content-Type"].startswith(content_type)
    assert "immutable" in headers.get("Cache-Control", ""), headers
    assert len(body) > 10_000


def test_the_production_entry_point_serves_docs_static_files_and_probes(served):
    base = served.base
    print(f"scripts/serve answered after {served.startup_seconds:.1f} s")

    status, headers, body = get(base + "/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})

    status, headers, body = get(base + "/api/docs/")
    assert status == 200
    docs = body.decode()
    assert_static_file(base, static_url(docs, "swagger-ui-bundle"), "text/javascript")
    assert_static_file(base, static_url(docs, r"swagger-ui\.[0-9a-f]+\.css"), "text/css")
    status, _, body = get(base + "/api/redoc/")
    assert status == 200
    assert_static_file(base, static_url(body.decode(), "redoc.standalone"), "text/javascript")
    status, _, body = get(base + "/register/")
    assert status == 200
    assert_static_file(base, static_url(body.decode(), r"leaflet/leaflet\.[0-9a-f]+\.js"), "text/javascript")

    # No demo data: no people, no organisations, no credentials file.
    assert count_rows(served.database_url, "auth_user") == 0
    assert count_rows(served.database_url, "accounts_organisation") == 0
    assert not (served.data_dir / "demo-credentials.env").exists()

    # The probes stay out of the access log; other requests are in it.
    time.sleep(0.5)
    access_log = served.access_log.read_text()
    assert '"GET /api/docs/ HTTP/1.1" 200' in access_log
    assert "/healthz" not in access_log and "/readyz" not in access_log


def test_x_forwarded_for_counts_only_the_entry_our_proxy_appended(served):
    url = served.base + "/api/v1/public/purposes/"

    def status_as(forwarded_for: str) -> int:
        return get(url, headers={"X-Forwarded-For": forwarded_for})[0]

    # One proxy of ours (DJANGO_TRUSTED_PROXY_COUNT=1): the client is the last entry, whatever it put before it.
    assert [status_as(f"198.51.100.{n}, 203.0.113.7") for n in range(3)] == [200, 200, 200]
    assert status_as("198.51.100.99, 203.0.113.7") == 429  # a new forged address does not buy a new budget
    assert status_as("203.0.113.7") == 429
    assert status_as("198.51.100.1, 203.0.113.8") == 200  # another client has a budget of its own


def test_readiness_fails_while_the_database_is_gone_and_liveness_does_not(served):
    if served.drop_database is None:
        pytest.skip("drops a PostgreSQL database; the served database is SQLite")
    assert get(served.base + "/readyz")[0] == 200
    served.drop_database()
    status, headers, body = get(served.base + "/readyz")
    assert status == 503
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["code"] == "database_unavailable"
    assert headers["Retry-After"]
    assert get(served.base + "/healthz")[0] == 200
