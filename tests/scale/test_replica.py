"""A real PostgreSQL streaming replica of the server the tests use, read through the database router.

`pg_basebackup -R` copies the test server (the test database already exists on it) into a temporary folder;
the copy starts with the same binaries as a hot standby on a socket and port of its own, streaming from
the primary. The `replica` alias is added for these tests only, pointing at the replica's copy of the test
database (not a TEST MIRROR: the point is a second server). The replica is stopped and removed afterwards,
also when a test fails. Without PostgreSQL's binaries the test fails (scripts/test installs them).
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from types import MethodType

import orjson
import pytest
from django.db import connection, connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from api import replica
from datasets import services as dataset_services
from purposes.models import AccessEvent
from tests.datasets.conftest import count_record
from tests.purposes.conftest import as_role

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

RECORDS = "/api/v1/records/"
# A hot standby refuses to start with less of these than its primary has.
PRIMARY_LIMITS = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


def postgres_bin() -> Path | None:
    """The binaries scripts/lib/postgres.sh (pg_find_bin) finds: pg_ctl on the PATH, else the newest installed."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return candidates[-1].parent if candidates else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Replica:
    def __init__(self, bin_dir: Path, folder: Path, port: int):
        self.bin, self.folder, self.data, self.port = bin_dir, folder, folder / "data", port
        # PostgreSQL refuses to run as root: then the copy belongs to, and runs as, the postgres user.
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.run_as:
            shutil.chown(folder, "postgres")

    def run(self, *args, env=None):
        done = subprocess.run(  # noqa: S603
            [*self.run_as, *args], capture_output=True, timeout=120, env={**os.environ, **(env or {})}
        )
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')}")

    def base_backup(self, primary: dict):
        source = ["-U", primary["USER"] or "postgres"]
        if primary["HOST"]:
            source += ["-h", primary["HOST"]]
        if primary["PORT"]:
            source += ["-p", str(primary["PORT"])]
        env = {"PGPASSWORD": primary["PASSWORD"]} if primary["PASSWORD"] else {}
        # -R: standby.signal and primary_conninfo; -X stream: the WAL of the copy's own duration.
        self.run(
            str(self.bin / "pg_basebackup"), *source, "-D", str(self.data), "-R", "-X", "stream",
            "--checkpoint=fast", "--no-sync", "--no-manifest", env=env,
        )  # fmt: skip

    def start(self):
        options = " ".join(
            [f"-c listen_addresses='' -k {self.folder} -c port={self.port} -c fsync=off -c hot_standby=on"]
            + [f"-c {name}={value}" for name, value in self.limits.items()]
        )
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-t", "60",
                 "-o", options, "start")  # fmt: skip

    def stop(self):
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def log(self) -> str:
        path = self.folder / "log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@pytest.fixture(scope="module")
def replica_server(django_db_setup, django_db_blocker):
    """A streaming replica of the test server, holding the test database; stopped and removed at the end."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.fail("PostgreSQL's binaries (pg_ctl, pg_basebackup) are not installed: scripts/test installs them")
    with django_db_blocker.unblock():
        primary = dict(connection.settings_dict)
        with connection.cursor() as cursor:
            limits = {}
            for name in PRIMARY_LIMITS:
                cursor.execute(f"SHOW {name}")
                limits[name] = cursor.fetchone()[0]
    folder = Path(tempfile.mkdtemp(prefix="cdp-replica."))
    server = Replica(bin_dir, folder, free_port())
    server.limits = limits
    try:
        started = time.monotonic()
        server.base_backup(primary)
        server.start()
        server.setup_seconds = time.monotonic() - started
        yield server, primary
    except RuntimeError as error:
        pytest.fail(f"{error}\n{server.log()}")
    finally:
        if server.running():
            try:
                server.stop()
            except RuntimeError:
                pass  # stopped already
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def replica_alias(replica_server, db, django_db_blocker):
    """The `replica` alias, for this test: the replica's copy of the test database.

    Added after the test case is set up (`db`) and removed before it is torn down, so the test case neither
    flushes it nor wraps it. Django's test case refuses connections to an alias outside its `databases`; this
    one connects as any server does (pytest-django keeps the real `ensure_connection`), so that a replica
    that is down fails as in production (OperationalError), which is what the router must survive.
    """
    server, primary = replica_server
    if not server.running():
        server.start()  # a test before stopped it
    connections.settings[replica.REPLICA] = {
        **primary,
        "HOST": str(server.folder),
        "PORT": str(server.port),
        "NAME": primary["NAME"],  # the test database, copied by the base backup
        "CONN_MAX_AGE": 60,
        "TEST": {**primary["TEST"], "MIRROR": None},
    }
    wrapper = connections[replica.REPLICA]
    wrapper.ensure_connection = MethodType(django_db_blocker._real_ensure_connection, wrapper)
    replica.forget()
    yield server
    replica.forget()
    wrapper.close()
    del connections[replica.REPLICA]
    del connections.settings[replica.REPLICA]


def scalar(alias: str, sql: str, params=()):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def wait_until_replayed(timeout: float = 15) -> None:
    """Until the replica has replayed everything the primary has written so far."""
    target = scalar("default", "SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if scalar(replica.REPLICA, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]):
            return
        time.sleep(0.02)
    pytest.fail(f"the replica did not replay up to {target} within {timeout} s")


def ingest(world, minute: int):
    dataset_services.records_ingest(
        caller=as_role(world["city"], Role.INTEGRATOR),
        dataset=world["dataset"],
        body=orjson.dumps(
            {
                "records": [
                    count_record(start=f"2026-01-05T12:{minute:02d}:00Z", end=f"2026-01-05T12:{minute + 5:02d}:00Z")
                ]
            }
        ),
        content_type="application/json",
    )


def read_records(client, world, *, replica_up=True):
    """GET records, and the reads of the records table on each server: (response, on_primary, on_replica, all
    queries on the replica). A replica that is down is not watched (watching connects)."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[replica.REPLICA]) if replica_up else nullcontext([]) as standby,
    ):
        response = client.get(RECORDS, {"dataset": world["dataset"].pk}, HTTP_X_PURPOSE="stad-crowd-safety")
    assert response.status_code == 200, response.content[:500]
    record_reads = [
        [query["sql"] for query in captured if 'FROM "datasets_record"' in query["sql"]]
        for captured in (primary, standby)
    ]
    return response, *record_reads, [query["sql"] for query in standby]


def served_by_the_replica_soon(client, world, seconds: float = 3) -> bool:
    """Whether a read goes to the replica within `seconds`, checking afresh each time: on a busy shared server
    the replica can be a moment behind when it is asked (then the primary answers, as it should)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        replica.forget()
        if read_records(client, world)[2]:
            return True
        time.sleep(0.1)
    return False


def test_a_row_committed_on_the_primary_is_read_from_the_replica(world, key_client, replica_alias):
    client = key_client(world["city"], Role.ANALYST)
    ingest(world, 0)  # committed on the primary after the base backup: it reaches the replica by streaming
    wait_until_replayed()
    assert scalar(replica.REPLICA, "SELECT pg_is_in_recovery()") is True
    events = AccessEvent.objects.count()

    response, on_primary, on_replica, everything_on_replica = read_records(client, world)

    assert len(response.json()["results"]) == 12  # the world's 11 and the one just committed
    assert "2026-01-05T12:00:00Z" in {row["observed_from"] for row in response.json()["results"]}
    assert on_primary == [] and len(on_replica) == 1
    # Only the records read (and the lag check) went there: not the key, the grants, the dataset or the event.
    assert {sql for sql in everything_on_replica if sql not in on_replica} == {
        "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, pg_last_xact_replay_timestamp()"
    }
    assert AccessEvent.objects.count() == events + 1  # the guard's write: the primary

    # Inside a transaction on the primary (which may have written), the primary answers.
    with transaction.atomic():
        _, on_primary, on_replica, _ = read_records(client, world)
    assert len(on_primary) == 1 and on_replica == []


def test_a_replica_lagging_beyond_the_bound_leaves_the_read_to_the_primary(world, key_client, replica_alias):
    client = key_client(world["city"], Role.ANALYST)
    wait_until_replayed()
    with override_settings(DATABASE_REPLICA_MAX_LAG=1):
        assert served_by_the_replica_soon(client, world)  # fresh: the replica serves
        scalar(replica.REPLICA, "SELECT pg_wal_replay_pause()::text")
        try:
            ingest(world, 10)
            time.sleep(1.2)  # the last transaction the replica replayed is now more than 1 s old
            assert scalar(replica.REPLICA, "SELECT count(*) FROM datasets_record") == 11  # it lacks the new row
            replica.forget()  # the next read checks again
            response, on_primary, on_replica, _ = read_records(client, world)
            assert len(on_primary) == 1 and on_replica == []
            assert len(response.json()["results"]) == 12
            # Lag is measured against the primary's WAL position, not the clock: once replayed, the
            # replica serves again, however long ago the last commit was (an idle primary is no lag).
        finally:
            scalar(replica.REPLICA, "SELECT pg_wal_replay_resume()::text")
        wait_until_replayed()
        time.sleep(1.2)
        assert served_by_the_replica_soon(client, world)


def test_a_replica_that_is_down_leaves_the_read_to_the_primary(world, key_client, replica_alias, monkeypatch):
    client = key_client(world["city"], Role.ANALYST)
    wait_until_replayed()
    monkeypatch.setattr(replica, "CHECK_SECONDS", 60)  # the check stays valid while the replica goes down
    assert served_by_the_replica_soon(client, world)  # checked and fresh: the replica serves
    replica_alias.stop()
    # The replica fails after it was checked: the failure is caught, the primary reads again, no 5xx.
    response, on_primary, _, _ = read_records(client, world, replica_up=False)
    assert len(on_primary) == 1 and len(response.json()["results"]) == 11
    assert replica._last_check.staleness is None  # marked down: the next requests do not try it
    # Next, the check itself finds it down: the primary answers at once.
    replica.forget()
    started = time.monotonic()
    response, on_primary, _, _ = read_records(client, world, replica_up=False)
    assert len(on_primary) == 1 and len(response.json()["results"]) == 11
    assert time.monotonic() - started < 2
