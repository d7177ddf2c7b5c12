"""Over real HTTP, against gunicorn and a PostgreSQL cluster of the test's own: while the database is
down, every request answers 503 with Retry-After (problem+json under /api/), and the platform recovers
by itself when it is back; a chunked body (no Content-Length) is read, within the size limit.

The cluster is a throwaway one (initdb, a unix socket in a temporary folder), started and stopped with
pg_ctl, so that stopping it disturbs nobody else; without PostgreSQL's binaries the test is skipped.
"""

import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
BODY_LIMIT = 200_000
SETUP = """
from accounts import services
from accounts.models import Organisation, OrganisationKind, Role
city = Organisation.objects.create(name="Gemeente Live", slug="live", kind=OrganisationKind.MUNICIPALITY)
print(services.api_key_create(organisation=city, name="live", role=Role.ADMIN)[1])
"""


def postgres_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


class Cluster:
    def __init__(self, bin_dir: Path, folder: Path):
        self.bin, self.folder, self.data = bin_dir, folder, folder / "data"
        # PostgreSQL refuses to run as root: then it runs as the postgres user.
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.run_as:
            shutil.chown(folder, "postgres")

    def pg(self, *args):
        subprocess.run([*self.run_as, *args], check=True, capture_output=True, timeout=60)  # noqa: S603

    def init(self):
        self.pg(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self):
        options = f"-c listen_addresses='' -k {self.folder} -c fsync=off"
        self.pg(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-o", options, "start"
        )

    def stop(self, mode="fast"):
        self.pg(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgres://postgres@{urllib.parse.quote(str(self.folder), safe='')}/postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def live():
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.fail("PostgreSQL's binaries (pg_ctl) are not installed: scripts/test installs them")
    folder = Path(tempfile.mkdtemp(prefix="cdp-live-pg."))
    cluster = Cluster(bin_dir, folder)
    cluster.init()
    cluster.start()
    env = {
        **os.environ,
        "DATABASE_URL": cluster.url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "live-database-test-" + "x" * 40,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_DATA_DIR": str(folder / "var"),
        "DJANGO_REQUEST_BODY_MAX_BYTES": str(BODY_LIMIT),
        "DJANGO_LOG_LEVEL": "CRITICAL",
    }
    server = None
    try:
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=PROJECT, env=env, check=True, timeout=300)  # noqa: S603
        setup = subprocess.run(  # noqa: S603
            [PYTHON, "manage.py", "shell", "-c", SETUP],
            cwd=PROJECT,
            env=env,
            check=True,
            timeout=60,
            capture_output=True,
        )
        port = free_port()
        server = subprocess.Popen(  # noqa: S603
            [PYTHON, "-m", "gunicorn", "--pythonpath", "platform", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        live = {"cluster": cluster, "port": port, "key": setup.stdout.decode().strip().splitlines()[-1]}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if request(live, "GET", "/api/v1/public/sensors/")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        yield live
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        try:
            cluster.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(folder, ignore_errors=True)


def request(live, method, path, body=None, headers=None, *, key=False):
    connection = http.client.HTTPConnection("127.0.0.1", live["port"], timeout=30)
    headers = dict(headers or {})
    if key:
        headers["Authorization"] = f"Api-Key {live['key']}"
    try:
        connection.request(method, path, body=body, headers=headers, encode_chunked=not isinstance(body, bytes | None))
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def chunks(data: bytes, size: int = 1000):
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_while_the_database_is_down_requests_answer_503_and_then_recover(live):
    assert request(live, "GET", "/api/v1/public/sensors/")[0] == 200
    assert request(live, "GET", "/api/v1/me/", key=True)[0] == 200
    live["cluster"].stop("immediate")  # as after kill -9: connections drop without a word
    try:
        for method, path, body, key in [
            ("GET", "/api/v1/public/sensors/", None, False),
            ("GET", "/api/v1/me/", None, True),
            ("POST", "/api/v1/areas/", b"{}", True),
            ("GET", "/api/v1/records/?dataset=1&purpose=x", None, False),
        ]:
            status, headers, content = request(live, method, path, body, {"Content-Type": "application/json"}, key=key)
            assert status == 503, (path, status, content[:300])
            assert headers["Content-Type"] == "application/problem+json"
            assert json.loads(content)["code"] == "database_unavailable"
            assert int(headers["Retry-After"]) > 0
        status, headers, content = request(live, "GET", "/register/")
        assert (status, int(headers["Retry-After"]) > 0) == (503, True)
    finally:
        live["cluster"].start()
    # Persistent connections are checked before use (CONN_HEALTH_CHECKS): the first request reconnects.
    assert request(live, "GET", "/api/v1/public/sensors/")[0] == 200
    assert request(live, "GET", "/api/v1/me/", key=True)[0] == 200


def test_a_chunked_body_is_read(live):
    area = {
        "name": "Chunked",
        "area_type": "square",
        "geometry": {"type": "Polygon", "coordinates": [[[5, 52], [5.001, 52], [5.001, 52.001], [5, 52]]]},
    }
    body = json.dumps(area).encode()
    status, _, content = request(
        live, "POST", "/api/v1/areas/", chunks(body, 10), {"Content-Type": "application/json"}, key=True
    )
    assert status == 201, content[:300]
    assert json.loads(content)["name"] == "Chunked"


def test_a_chunked_body_over_the_limit_is_413(live):
    body = b'{"name": "' + b"x" * (BODY_LIMIT + 10_000) + b'"}'
    status, headers, content = request(
        live, "POST", "/api/v1/areas/", chunks(body, 50_000), {"Content-Type": "application/json"}, key=True
    )
    assert status == 413, content[:300]
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(content)["max_bytes"] == BODY_LIMIT
