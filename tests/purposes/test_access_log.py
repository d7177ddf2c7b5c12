"""The access log: hash chains that verify, tampering that is found, and a table the database keeps append-only."""

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from purposes.access_log import GENESIS, EventContent, access_event_append, access_log_verify, event_hash
from purposes.models import AccessEvent

pytestmark = pytest.mark.django_db


def content(**changes) -> EventContent:
    fields = {
        "actor_kind": "api_key",
        "actor_name": "abc12345",
        "organisation_id": 1,
        "organisation_slug": "stad",
        "purpose_code": "stad-crowd-safety",
        "purpose_holder_id": 1,
        "dataset_ids": (7,),
        "dataset_owner_ids": {7: 1},
        "endpoint": "datasets-api:record-list",
        "params": {"dataset": "7"},
        "decision": "allowed",
        "reason": "",
        "status_code": 200,
        "rows": 11,
        "cells": 55,
    }
    fields.update(changes)
    return EventContent(**fields)


def append(n: int, chain: int = 0) -> list[AccessEvent]:
    return [access_event_append(content=content(rows=i), chain=chain) for i in range(n)]


def verify_output() -> str:
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_access_log", stdout=StringIO(), stderr=err)
    return err.getvalue()


def superuser_sql(sql: str, params=()):
    """Tamper as a database superuser would: with the append-only triggers switched off for this session."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql, params)
            cursor.execute("SET LOCAL session_replication_role = origin")
        else:
            cursor.execute("DROP TRIGGER purposes_accessevent_no_update")
            cursor.execute("DROP TRIGGER purposes_accessevent_no_delete")
            cursor.execute(sql, params)


@pytest.mark.smoke
def test_a_chain_links_each_event_to_the_one_before():
    first, second, third = append(3)
    assert (first.seq, second.seq, third.seq) == (1, 2, 3)
    assert first.prev_hash == GENESIS and second.prev_hash == first.hash and third.prev_hash == second.hash
    stored = AccessEvent.objects.filter(pk=second.pk).values().get()
    assert event_hash(stored) == second.hash
    out = StringIO()
    call_command("verify_access_log", stdout=out)
    assert "OK: 3 events verified" in out.getvalue()


@pytest.mark.smoke
def test_updates_and_deletes_are_refused_by_the_database():
    (event,) = append(1)
    for statement in (
        "UPDATE purposes_accessevent SET rows = 0",
        "DELETE FROM purposes_accessevent",
        "DELETE FROM purposes_accesseventdataset",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).update(rows=0)
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE purposes_accessevent CASCADE")


def test_an_altered_event_is_named():
    events = append(4)
    superuser_sql("UPDATE purposes_accessevent SET rows = 999 WHERE id = %s", [events[2].pk])
    checked, breaks = access_log_verify()
    assert [(b.chain, b.seq, b.kind) for b in breaks] == [(0, 3, "altered")]
    assert f"chain 0, seq 3 (event {events[2].pk}): altered" in verify_output()


def test_a_removed_event_is_named():
    events = append(4)
    superuser_sql("DELETE FROM purposes_accessevent WHERE id = %s", [events[1].pk])
    _, breaks = access_log_verify()
    assert breaks[0].seq == 2 and breaks[0].kind.startswith("removed")


def test_an_inserted_event_is_named():
    events = append(3)
    # An event slipped in between 1 and 2, renumbering what follows: its link or its hash cannot fit.
    superuser_sql("UPDATE purposes_accessevent SET seq = -seq - 1 WHERE seq >= 2 AND chain = 0")
    superuser_sql("UPDATE purposes_accessevent SET seq = -seq WHERE seq < 0 AND chain = 0")
    forged = dict(AccessEvent.objects.filter(pk=events[0].pk).values().get())
    forged.update(id=None, seq=2, rows=0, prev_hash=events[0].hash)
    forged["hash"] = event_hash(forged)
    forged.pop("id")
    slipped_in = AccessEvent.objects.create(**forged)
    _, breaks = access_log_verify()
    # the forger has no dataset rows to match (they are append-only too), or the next event's link breaks
    assert breaks[0].event_id == slipped_in.pk or (breaks[0].seq, breaks[0].kind) == (3, "inserted or re-linked")


def test_chains_verify_independently():
    append(2, chain=0)
    append(2, chain=1)
    bad = append(1, chain=2)[0]
    superuser_sql("UPDATE purposes_accessevent SET purpose_code = 'x' WHERE id = %s", [bad.pk])
    checked, breaks = access_log_verify()
    assert checked == 5 and [b.chain for b in breaks] == [2]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_appends_keep_every_chain_whole(settings):
    settings.ACCESS_LOG_CHAINS = 2
    errors = []

    def writer():
        try:
            for _ in range(25):
                access_event_append(content=content())
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    checked, breaks = access_log_verify()
    assert checked == 150 and breaks == []
    per_chain = {chain: AccessEvent.objects.filter(chain=chain).count() for chain in (0, 1)}
    for chain, count in per_chain.items():
        seqs = list(AccessEvent.objects.filter(chain=chain).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, count + 1))


def test_atomic_requests_would_fold_the_event_into_the_request_and_is_refused(monkeypatch):
    from django.conf import settings

    from api.checks import check_access_log_outside_requests

    assert check_access_log_outside_requests() == []
    atomic = {**settings.DATABASES, "default": {**settings.DATABASES["default"], "ATOMIC_REQUESTS": True}}
    monkeypatch.setattr(settings, "DATABASES", atomic)  # read by the check only: no connection is remade
    assert [message.id for message in check_access_log_outside_requests()] == ["api.E004"]


def test_removed_dataset_rows_are_named():
    events = append(2)
    superuser_sql("DELETE FROM purposes_accesseventdataset WHERE event_id = %s", [events[1].pk])
    _, breaks = access_log_verify()
    assert [(b.seq, b.kind) for b in breaks] == [(2, "dataset rows altered, removed or added")]


def test_a_long_chain_verifies_across_chunks(monkeypatch):
    from purposes import access_log

    monkeypatch.setattr(access_log, "VERIFY_CHUNK", 3)
    events = append(8)
    assert access_log_verify() == (8, [])
    superuser_sql("UPDATE purposes_accessevent SET rows = 5 WHERE id = %s", [events[6].pk])
    assert [(b.seq, b.kind) for b in access_log_verify()[1]] == [(7, "altered")]
