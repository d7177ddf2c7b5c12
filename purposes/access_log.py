"""The access log: one hash-chained, append-only event per guarded request, and its verifier.

The log is sharded into `ACCESS_LOG_CHAINS` chains. An append picks a chain at random, takes that
chain's advisory lock, reads its head and inserts the next event in its own short transaction (never
the request's). Appends to different chains run side by side, so the log does not serialise the
platform as it grows. Within a chain, `seq` counts from 1 without gaps and each `hash` covers the
event's canonical content and the previous hash: an altered, removed or inserted event breaks it.
"""

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from api.locks import LockNamespace, advisory_xact_lock
from purposes.models import AccessEvent, AccessEventDataset

GENESIS = "0" * 64
# The fields the hash covers, in this order (`hash` itself aside).
HASHED_FIELDS = (
    "chain",
    "seq",
    "at",
    "actor_kind",
    "actor_name",
    "organisation_id",
    "organisation_slug",
    "purpose_code",
    "purpose_holder_id",
    "dataset_ids",
    "dataset_owners",
    "endpoint",
    "params",
    "decision",
    "reason",
    "status_code",
    "rows",
    "cells",
    "cells_suppressed",
    "prev_hash",
)


def _canonical_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def event_hash(fields: dict) -> str:
    content = {name: _canonical_value(fields[name]) for name in HASHED_FIELDS}
    canonical = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(fields["prev_hash"].encode() + canonical).hexdigest()


@dataclass(frozen=True)
class EventContent:
    """What a guarded request did, as the API layer saw it."""

    actor_kind: str
    actor_name: str
    organisation_id: int | None
    organisation_slug: str
    purpose_code: str
    purpose_holder_id: int | None
    dataset_ids: tuple[int, ...]
    dataset_owner_ids: dict  # {dataset_id: owner_id}
    endpoint: str
    params: dict
    decision: str
    reason: str
    status_code: int
    rows: int = 0
    cells: int = 0
    cells_suppressed: int = 0


def access_event_append(*, content: EventContent, chain: int | None = None) -> AccessEvent:
    """Append one event in its own transaction. Raises when it cannot be written: then no data may leave."""
    chain = random.randrange(settings.ACCESS_LOG_CHAINS) if chain is None else chain  # noqa: S311 (sharding)
    with transaction.atomic():
        advisory_xact_lock(LockNamespace.ACCESS_LOG, chain)
        with connection.cursor() as cursor:
            cursor.execute(HEAD, [chain])
            head = cursor.fetchone()
        seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS)
        at = timezone.now()
        fields = {
            "chain": chain,
            "seq": seq,
            "at": at,
            "actor_kind": content.actor_kind,
            "actor_name": content.actor_name[:150],
            "organisation_id": content.organisation_id,
            "organisation_slug": content.organisation_slug,
            "purpose_code": content.purpose_code[:80],
            "purpose_holder_id": content.purpose_holder_id,
            "dataset_ids": list(content.dataset_ids),
            "dataset_owners": {str(pk): owner for pk, owner in sorted(content.dataset_owner_ids.items())},
            "endpoint": content.endpoint[:100],
            "params": content.params,
            "decision": content.decision,
            "reason": content.reason,
            "status_code": content.status_code,
            "rows": content.rows,
            "cells": content.cells,
            "cells_suppressed": content.cells_suppressed,
            "prev_hash": prev_hash,
        }
        event = AccessEvent(**fields, hash=event_hash(fields))
        if connection.vendor == "postgresql":
            _insert_postgresql(event, content.dataset_owner_ids)
        else:
            event.save(force_insert=True)
            AccessEventDataset.objects.bulk_create(
                AccessEventDataset(event=event, dataset_id=dataset_id, owner_id=owner_id, at=at)
                for dataset_id, owner_id in content.dataset_owner_ids.items()
            )
    return event


EVENT_COLUMNS = [*HASHED_FIELDS, "hash"]
HEAD = "SELECT seq, hash FROM purposes_accessevent WHERE chain = %s ORDER BY seq DESC LIMIT 1"
# The event and its dataset rows in one statement (a data-modifying CTE always runs, rows or none):
# one round trip, and no ORM compilation on the path every guarded request takes.
INSERT_POSTGRESQL = f"""
WITH event AS (
    INSERT INTO purposes_accessevent ({", ".join(EVENT_COLUMNS)})
    VALUES ({", ".join(["%s"] * len(EVENT_COLUMNS))})
    RETURNING id, at
), rows AS (
    INSERT INTO purposes_accesseventdataset (event_id, dataset_id, owner_id, at)
    SELECT event.id, d.dataset_id, d.owner_id, event.at
    FROM event, unnest(%s::bigint[], %s::bigint[]) AS d(dataset_id, owner_id)
)
SELECT id FROM event
"""  # noqa: S608 (column names are this module's constants)


def _insert_postgresql(event: AccessEvent, owners: dict) -> None:
    values = []
    for name in EVENT_COLUMNS:
        value = getattr(event, name)
        values.append(Jsonb(value) if name in ("dataset_ids", "dataset_owners", "params") else value)
    with connection.cursor() as cursor:
        cursor.execute(INSERT_POSTGRESQL, [*values, list(owners), list(owners.values())])
        event.pk = cursor.fetchone()[0]


@dataclass(frozen=True)
class ChainBreak:
    chain: int
    seq: int
    event_id: int | None
    kind: str  # altered, removed, inserted

    def __str__(self) -> str:
        where = f"chain {self.chain}, seq {self.seq}" + (f" (event {self.event_id})" if self.event_id else "")
        return f"{where}: {self.kind}"


def access_log_verify() -> tuple[int, list[ChainBreak]]:
    """Walk every chain; return the number of events checked and the first break of each broken chain.

    An event's dataset rows (what owners find their events by) must be exactly the owners its hash covers."""
    checked, breaks = 0, []
    chains = AccessEvent.objects.order_by().values_list("chain", flat=True).distinct()
    for chain in sorted(set(chains)):
        state = {"seq": 1, "prev_hash": GENESIS}
        events = AccessEvent.objects.filter(chain=chain).order_by("seq").values(*HASHED_FIELDS, "id", "hash")
        chunk: list[dict] = []
        found = None
        for event in events.iterator(chunk_size=VERIFY_CHUNK):
            chunk.append(event)
            if len(chunk) == VERIFY_CHUNK:
                found = _verify_chunk(chain, chunk, state)
                checked += len(chunk)
                chunk = []
                if found:
                    break
        if not found and chunk:
            found = _verify_chunk(chain, chunk, state)
            checked += len(chunk)
        if found:
            breaks.append(found)
    return checked, breaks


VERIFY_CHUNK = 2000


def _verify_chunk(chain: int, events: list[dict], state: dict) -> ChainBreak | None:
    rows: dict[int, dict[str, int]] = {}
    for event_id, dataset_id, owner_id in AccessEventDataset.objects.filter(
        event_id__in=[event["id"] for event in events]
    ).values_list("event_id", "dataset_id", "owner_id"):
        rows.setdefault(event_id, {})[str(dataset_id)] = owner_id
    for event in events:
        if event["seq"] != state["seq"]:
            if event["seq"] > state["seq"]:
                return ChainBreak(chain, state["seq"], None, f"removed (the next event kept is seq {event['seq']})")
            return ChainBreak(chain, event["seq"], event["id"], "inserted")
        if event["prev_hash"] != state["prev_hash"]:
            return ChainBreak(chain, event["seq"], event["id"], "inserted or re-linked")
        if event_hash(event) != event["hash"]:
            return ChainBreak(chain, event["seq"], event["id"], "altered")
        if rows.get(event["id"], {}) != event["dataset_owners"]:
            return ChainBreak(chain, event["seq"], event["id"], "dataset rows altered, removed or added")
        state["seq"], state["prev_hash"] = state["seq"] + 1, event["hash"]
    return None
