"""Monthly partitions of records (PostgreSQL; SQLite keeps one plain table): docs/adr/0008.

`datasets_record` is partitioned by RANGE of `observed_from`, one partition per UTC month
(`datasets_record_pYYYY_MM`) and a DEFAULT partition (`datasets_record_default`) for months that have
none. Months are created ahead by `manage.py records_partitions`, and by ingest when a batch reaches a
month that has none (`months_ensure`). PostgreSQL refuses to create a partition whose range has rows in
the default partition, so creating a month moves those rows into it first.

Creating a month takes `LockNamespace.PARTITIONS` (one creator at a time) and, to attach the month, an
ACCESS EXCLUSIVE lock on the default partition, which waits for the transactions that use it. A batch's
transaction must therefore never create a month itself while it holds locks on records (another batch
could wait for it while it waits for that batch): `months_ensure` raises `MonthsMissing` instead, the
ingest service rolls its transaction back, creates the months outside any transaction and stores again.

What bounds the number of partitions (they are global: every tenant's unbounded read plans over them):
ingest creates at most `INGEST_NEW_MONTHS` months per batch, and only months within `INGEST_MONTHS_BEFORE`
months before this one to `INGEST_MONTHS_AFTER` after it; a batch's rows of other months land in the default
partition, which `manage.py records_partitions` (daily) empties by creating their months, one month per short
transaction. Each month takes the default's ACCESS EXCLUSIVE lock with `LOCK_TIMEOUT`: when another
transaction holds it, creating that month gives up (its rows stay in the default) rather than queueing every
reader behind it.
"""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from api.locks import LockNamespace, advisory_xact_lock

TABLE = "datasets_record"
DEFAULT = f"{TABLE}_default"

# What ingest may create (docs/adr/0008): at most this many new months per batch (a batch that crosses a
# month's edge needs two), only from INGEST_MONTHS_BEFORE months before this month to INGEST_MONTHS_AFTER
# after it. The rest goes to the default partition until `records_partitions` runs.
INGEST_NEW_MONTHS = 2
INGEST_MONTHS_BEFORE = 2
INGEST_MONTHS_AFTER = 1
# How long creating a month (or retention's drop) waits for its ACCESS EXCLUSIVE lock before giving up.
LOCK_TIMEOUT = "2s"
# A month whose creation gave up is not tried again by ingest in this process for this long (seconds).
RETRY_AFTER = 60.0
# The bounds of `records_partitions --ahead`.
AHEAD_MAX = 36

log = logging.getLogger(__name__)

# Months known to have a partition, per process: ingest checks a batch against it without a query.
_known: set[date] = set()
# Months whose creation gave up (lock timeout), with the monotonic time until which ingest leaves them be.
_gave_up: dict[date, float] = {}


class MonthsMissing(Exception):  # noqa: N818 (a signal to the caller, not an error)
    """A batch reaches months without a partition, and its transaction may not create them."""

    def __init__(self, months: set[date]):
        super().__init__(", ".join(f"{month:%Y-%m}" for month in sorted(months)))
        self.months = months


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime | None  # None: the default partition
    end: datetime | None
    rows: int  # PostgreSQL's estimate (pg_class.reltuples; -1 before the first ANALYZE)


def enabled() -> bool:
    return connection.vendor == "postgresql"


def month_of(moment: datetime) -> date:
    utc = moment.astimezone(UTC)
    return date(utc.year, utc.month, 1)


def month_of_text(text: str) -> date:
    """ "2026-02" -> date(2026, 2, 1)."""
    return date.fromisoformat(f"{text}-01")


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_between(first: date, last: date) -> int:
    """How many months `last` is after `first` (negative when before)."""
    return (last.year - first.year) * 12 + last.month - first.month


def bounds(month: date) -> tuple[datetime, datetime]:
    """[start, end) of a month in UTC."""
    following = next_month(month)
    return (
        datetime(month.year, month.month, 1, tzinfo=UTC),
        datetime(following.year, following.month, 1, tzinfo=UTC),
    )


def name_of(month: date) -> str:
    return f"{TABLE}_p{month:%Y_%m}"


def existing() -> list[Partition]:
    """The partitions of records, oldest first, the default last."""
    if not enabled():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), c.reltuples::bigint
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = %s::regclass ORDER BY c.relname
            """,
            [TABLE],
        )
        found = cursor.fetchall()
    partitions = []
    for name, bound, rows in found:
        if bound == "DEFAULT":
            partitions.append(Partition(name, None, None, rows))
            continue
        # FOR VALUES FROM ('2026-01-01 00:00:00+00') TO ('2026-02-01 00:00:00+00')
        start, end = (datetime.fromisoformat(part.split("'")[1]) for part in bound.split(" TO "))
        partitions.append(Partition(name, start.astimezone(UTC), end.astimezone(UTC), rows))
    partitions.sort(key=lambda p: (p.start is None, p.start or datetime.min.replace(tzinfo=UTC)))
    return partitions


def months_existing() -> set[date]:
    return {month_of(p.start) for p in existing() if p.start is not None}


def months_for_ingest(missing: set[date], now: datetime | None = None) -> set[date]:
    """The months without partition that a batch may create: within INGEST_MONTHS_BEFORE months before this
    month to INGEST_MONTHS_AFTER after it, the INGEST_NEW_MONTHS nearest this month, none whose creation gave
    up a moment ago. The batch's rows of the others land in the default partition."""
    this = month_of(now or timezone.now())
    clock = time.monotonic()
    near = [
        month
        for month in missing
        if -INGEST_MONTHS_BEFORE <= months_between(this, month) <= INGEST_MONTHS_AFTER
        and _gave_up.get(month, 0) <= clock
    ]
    near.sort(key=lambda month: (abs(months_between(this, month)), month))
    return set(near[:INGEST_NEW_MONTHS])


def months_ensure(moments) -> None:
    """Make sure the months of `moments` that ingest may create (`months_for_ingest`) have a partition (a
    no-op on SQLite; no query when this process has seen them all); rows of other months land in the default
    partition. Inside the outermost transaction of a batch, raises `MonthsMissing` so that the caller
    creates them outside it (see the module's doc); nested in an outer transaction (a demo load, a test) or
    outside any, creates them here."""
    if not enabled():
        return
    months = {month_of(moment) for moment in moments} - _known
    if not months:
        return
    _known.update(months_existing())
    missing = months_for_ingest(months - _known)
    if not missing:
        return
    if connection.in_atomic_block and not connection.savepoint_ids:
        raise MonthsMissing(missing)
    months_create(missing)


def months_create(months) -> list[str]:
    """Create the partitions of these months (moving their rows out of the default partition), one month per
    short transaction; returns the names created. One creator at a time (advisory lock); safe to call for
    months that exist. A month whose lock on the default partition is not granted within LOCK_TIMEOUT is
    left for later (logged; its rows stay in the default)."""
    if not enabled():
        return []
    created = []
    for month in sorted(set(months)):
        try:
            name = _month_create(month)
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            _gave_up[month] = time.monotonic() + RETRY_AFTER
            log.warning("partition of %s not created: the default partition is busy (%s)", f"{month:%Y-%m}", error)
            continue
        _known.add(month)
        _gave_up.pop(month, None)
        if name:
            created.append(name)
    return created


def _month_create(month: date) -> str | None:
    """Create one month's partition in a transaction of its own (a savepoint when nested); None when it exists."""
    name = name_of(month)
    start, end = bounds(month)
    with transaction.atomic(), connection.cursor() as cursor:
        advisory_xact_lock(LockNamespace.PARTITIONS, 0)
        if month in months_existing():
            return None
        cursor.execute("SELECT current_setting('lock_timeout')")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_TIMEOUT])
        # The default is locked first: no row of this month may land in it between the move and the attach.
        cursor.execute(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        # Rows of this month that sat in the default partition move in before the month is attached
        # (PostgreSQL checks that the default holds none of the new range).
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE observed_from >= %s AND observed_from < %s "  # noqa: S608
            f"RETURNING *) INSERT INTO {name} SELECT * FROM moved",
            [start, end],
        )
        cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [start, end])
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])  # an outer transaction's own
    return name


def months_ahead(now: datetime, ahead: int) -> list[date]:
    """This month and the `ahead` months after it."""
    months = [month_of(now)]
    for _ in range(ahead):
        months.append(next_month(months[-1]))
    return months


def months_in_default() -> set[date]:
    """The months of the rows that sit in the default partition."""
    if not enabled():
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', observed_from AT TIME ZONE 'UTC')::date FROM {DEFAULT}"  # noqa: S608
        )
        return {row[0] for row in cursor.fetchall()}


def forget() -> None:
    """Forget the months this process has seen (after partitions were dropped or a migration ran)."""
    _known.clear()
    _gave_up.clear()
