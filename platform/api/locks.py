"""The one registry of PostgreSQL advisory-lock namespaces: the first key of pg_advisory_xact_lock(ns, id)."""

from enum import IntEnum

from django.db import connection


class LockNamespace(IntEnum):
    INGEST = 7_010  # per dataset: batches shared, retention exclusive
    ACCESS_LOG = 7_020  # per access-log chain: appends to one chain are serialised
    PARTITIONS = 7_030  # records' partitions (key 0): one creator or dropper at a time


def advisory_xact_lock(namespace: LockNamespace, key: int, *, shared: bool = False) -> None:
    """Hold the lock until the end of the current transaction (PostgreSQL; a no-op elsewhere, where
    SQLite's IMMEDIATE transactions already serialise writers)."""
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [int(namespace), key])
