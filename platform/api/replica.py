"""Reads of the data endpoints from a PostgreSQL streaming replica (`DATABASE_REPLICA_URL`), within a bound on lag.

Only what the purpose guard has already decided goes there: `PurposeBoundMixin` opens a replica scope
after the decision (`initial()`) and closes it before the access event is written (`finalize_response()`),
and inside it only reads of purpose-bound models (records, rollups) leave the primary. Everything else
stays on the primary: the guard's decision and its access event, authentication, sessions, metadata, and
any read while the primary's connection is inside a transaction (`atomic`), which may have written.

The replica is used only while it is known to be fresh enough. The check (`replica_staleness()`) asks the
primary for its WAL position and the time (`pg_current_wal_lsn()`, `clock_timestamp()`), then the replica
for what it has replayed (`pg_last_wal_replay_lsn()`, `pg_last_xact_replay_timestamp()`):

- replayed at or past the primary's position (asked up to three times, 10 ms apart): staleness 0, however
  long ago the last commit was (an idle primary does not make a caught-up replica look stale);
- behind it: staleness = the primary's clock minus the commit time of the last transaction replayed, an
  upper bound (everything committed up to then is there). The first commit after a long quiet spell makes
  this large for the few milliseconds until it is replayed: the primary answers meanwhile, which is safe;
- a replica that answers nothing, or is not in recovery (promoted, or the primary itself): unusable.

The answer is kept `CHECK_SECONDS` per process (two tiny queries a second at most), a replica that is down
`DOWN_SECONDS`; the replica serves while staleness plus the age of the check is within
`DATABASE_REPLICA_MAX_LAG`. A replica that fails in the middle of a request (gone since the last check) is
marked down and the request's read runs again on the primary (`PurposeBoundMixin.handle_exception`).
"""

import contextvars
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from api.checks import is_purpose_bound

logger = logging.getLogger(__name__)

REPLICA = "replica"
CHECK_SECONDS = 1.0
DOWN_SECONDS = 5.0
# A replica a little behind the primary's position is asked again, briefly, before the commit time decides:
# WAL that commits nothing (vacuum, checkpoints, snapshots) would otherwise make a quiet primary look stale.
CATCH_UP_ATTEMPTS = 3
CATCH_UP_PAUSE = 0.01


@dataclass
class Scope:
    """One request's replica scope: whether reads may go there, and whether one did."""

    open: bool = True
    used: bool = False


_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("replica_scope", default=None)


@dataclass(frozen=True)
class Check:
    at: float  # time.monotonic() of the check
    staleness: float | None  # seconds; None: unusable
    valid_for: float


_last_check: Check | None = None


def configured() -> bool:
    return REPLICA in connections.settings


def max_lag() -> float:
    return float(getattr(settings, "DATABASE_REPLICA_MAX_LAG", 5))


def forget() -> None:
    """Drop the cached check (tests; and after a failure)."""
    global _last_check
    _last_check = None


def mark_down() -> None:
    global _last_check
    _last_check = Check(at=time.monotonic(), staleness=None, valid_for=DOWN_SECONDS)
    try:
        connections[REPLICA].close()
    except DatabaseError:
        pass  # the connection is gone already


def lsn(text: str) -> int:
    high, low = text.split("/")
    return int(high, 16) << 32 | int(low, 16)


def replica_staleness() -> float | None:
    """Seconds of data the replica may lack now, or None when it cannot serve (see the module's docstring)."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text, clock_timestamp()")
        primary_lsn, primary_now = cursor.fetchone()
    for attempt in range(CATCH_UP_ATTEMPTS):
        try:
            with connections[REPLICA].cursor() as cursor:
                cursor.execute(
                    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, pg_last_xact_replay_timestamp()"
                )
                in_recovery, replayed_lsn, replayed_at = cursor.fetchone()
        except DatabaseError as error:
            logger.warning("The read replica does not answer; the primary serves: %s", error)
            return None
        if not in_recovery or replayed_lsn is None:
            return None
        if lsn(replayed_lsn) >= lsn(primary_lsn):
            return 0.0
        if attempt + 1 < CATCH_UP_ATTEMPTS:
            time.sleep(CATCH_UP_PAUSE)  # a healthy replica replays the primary's position within milliseconds
    if replayed_at is None:
        return None  # behind, and nothing replayed since it started: unknown
    return max(0.0, (primary_now - replayed_at).total_seconds())


def replica_fresh() -> bool:
    """Whether the replica may serve now (the cached check, renewed when older than CHECK_SECONDS)."""
    global _last_check
    now = time.monotonic()
    check = _last_check
    if check is None or now - check.at >= check.valid_for:
        staleness = replica_staleness()
        if staleness is None:
            mark_down()
        else:
            _last_check = Check(at=now, staleness=staleness, valid_for=CHECK_SECONDS)
        check = _last_check
    if check.staleness is None:
        return False
    return check.staleness + (now - check.at) <= max_lag()


def open_scope() -> None:
    """From here on this request's reads of purpose-bound models may go to the replica (PurposeBoundMixin)."""
    if configured():
        _scope.set(Scope())


def close_scope() -> Scope | None:
    """End the scope; returns it (`used`: whether a read went to the replica)."""
    scope = _scope.get()
    _scope.set(None)
    return scope


def scope_used() -> bool:
    scope = _scope.get()
    return scope is not None and scope.used


class ReplicaRouter:
    """DATABASE_ROUTERS: purpose-bound reads inside an open scope go to the replica while it is fresh enough."""

    def db_for_read(self, model, **hints):
        scope = _scope.get()
        if scope is None or not scope.open or not configured() or not is_purpose_bound(model):
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None  # a transaction on the primary may have written: read what it sees
        if not replica_fresh():
            return None
        scope.used = True
        return REPLICA

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica is a copy of the primary: it is never migrated (it is read-only anyway).
        return False if db == REPLICA else None
