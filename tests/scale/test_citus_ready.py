"""The schema is ready for Citus (docs/scaling.md): read from the database catalogue, not from the models, so
that it checks whatever layout lands.

Every table is classified below: distributed by `dataset_id` (grows with data), reference (small, copied to
every node), or local (stays on the coordinator, never joined with data). Then what Citus requires:

- a distributed table has `dataset_id` (NOT NULL), and every primary key and unique index contains it;
- a foreign key from a distributed table goes to a reference table, or to a distributed table with
  `dataset_id` mapped to `dataset_id`; no reference or local table points at a distributed one;
- reference tables do not grow with data: ingest, reads and retention add no row to them;
- the SQL that ingest, the data endpoints and retention emit never joins two distributed tables' rows on
  anything but `dataset_id`: each reference to a distributed table in one statement is joined to the others
  on `dataset_id`, or all are pinned to the same dataset (`dataset_id = <one value>`).

`KNOWN_GAPS` lists what fails today, each with why; the test insists the findings are exactly those, so a new
gap fails it and so does a closed one (delete its line then).
"""

import re
from collections import defaultdict
from datetime import UTC, datetime

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from datasets import services as dataset_services
from datasets.retention import dataset_retention_enforce
from tests.datasets.conftest import count_record
from tests.purposes.conftest import as_role

pytestmark = pytest.mark.django_db

DISTRIBUTION_COLUMN = "dataset_id"

# Grow with data (records, time, requests, batches): distributed by dataset_id, colocated with each other.
DISTRIBUTED = {
    "datasets_record": "the records (partitions, where there are any, follow their parent)",
    "datasets_recordrollup": "15-minute rollups per sensor",
    "datasets_arearollup": "15-minute rollups per area",
    "datasets_ingestbatch": "one row per ingest batch",
    "datasets_idempotencykey": "one row per idempotent batch",
    "datasets_retentionrun": "one row per dataset per retention run",
    "purposes_accesseventdataset": "one row per dataset per data request (the access log's dataset index)",
    "purposes_privacyspend": "one row per noisy answer (the privacy budget's ledger)",
    "purposes_privacybudget": "one row per dataset, updated by every noisy answer: colocated with its ledger",
}
# Small: rows per organisation, person, sensor, area, schema, purpose or dataset; never per record or request.
REFERENCE = {
    "accounts_organisation",
    "accounts_membership",
    "accounts_apikey",
    "auth_user",
    "auth_group",
    "auth_group_permissions",
    "auth_permission",
    "auth_user_groups",
    "auth_user_user_permissions",
    "django_content_type",
    "datasets_dataset",
    "datasets_dataset_areas",
    "datasets_dataset_collection_purposes",
    "datasets_dataset_sensors",
    "datasets_schemaversion",
    "datasets_standardschema",
    "purposes_purpose",
    "purposes_grant",
    "purposes_compatibilityassessment",
    "purposes_purposedecision",
    "purposes_apikeypurpose",
    "sensors_sensortype",
    "sensors_sensor",
    "sensors_sensorevent",
    "sensors_activeperiod",
    "sensors_suspension",
    "sensors_area",
    "sensors_placement",
}
# On the coordinator only, never joined with data: the framework's own tables, the sign-in lock's, and the
# hash-chained access log (ordered per chain, one row per request whatever the datasets; its per-dataset
# rows are purposes_accesseventdataset, distributed).
LOCAL = {
    "django_migrations",
    "django_session",
    "django_admin_log",
    "axes_accessattempt",
    "axes_accessattemptexpiration",
    "axes_accessfailurelog",
    "axes_accesslog",
    "rest_framework_api_key_apikey",
    "purposes_accessevent",
    "cdp_cache",  # the throttle cache table scripts/serve creates
}

# What fails today, and why (a finding: its reason). Empty since issue 10 keyed every growing table by dataset_id;
# a change that knowingly opens a gap lists it here, and deletes the line when it closes.
KNOWN_GAPS: dict[str, str] = {}


def rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def catalogue_tables() -> set[str]:
    """The schema's tables; partitions belong to their partitioned parent."""
    return {
        name
        for (name,) in rows(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
        )
    }


def not_null_columns(table: str) -> dict[str, bool]:
    return dict(
        rows(
            "SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped",
            [table],
        )
    )


def unique_keys() -> list[tuple[str, str, list[str]]]:
    """(table, index, columns) of every primary key and unique index (expression columns come out as None)."""
    return rows(
        """
        SELECT t.relname, i.relname,
               ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
                     LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n)
        FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE x.indisunique AND n.nspname = current_schema() AND NOT t.relispartition
        """
    )


def foreign_keys() -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(table, constraint, referenced table, [(column, referenced column), ...])."""
    found = rows(
        """
        SELECT c.conrelid::regclass::text, c.conname, c.confrelid::regclass::text,
               ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n),
               ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.n)
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE c.contype = 'f' AND n.nspname = current_schema() AND NOT t.relispartition
        """
    )
    return [
        (table, name, target, list(zip(columns, targets, strict=True)))
        for table, name, target, columns, targets in found
    ]


def catalogue_findings() -> set[str]:
    findings = set()
    tables = catalogue_tables()
    classified = set(DISTRIBUTED) | REFERENCE | LOCAL
    for table in sorted(tables - classified):
        findings.add(f"unclassified table: {table} (declare it distributed, reference or local)")
    for table in sorted(set(DISTRIBUTED) & tables):
        if not not_null_columns(table).get(DISTRIBUTION_COLUMN):
            findings.add(f"distributed table without a NOT NULL dataset_id: {table}")
    for table, index, columns in unique_keys():
        if table in DISTRIBUTED and DISTRIBUTION_COLUMN not in columns:
            shown = ", ".join(column or "(expression)" for column in columns)
            findings.add(f"unique key without dataset_id: {table}.{index} ({shown})")
    for table, name, target, pairs in foreign_keys():
        if table in DISTRIBUTED:
            if target in DISTRIBUTED:
                if (DISTRIBUTION_COLUMN, DISTRIBUTION_COLUMN) not in pairs:
                    findings.add(f"foreign key between distributed tables not on dataset_id: {table}.{name}")
            elif target not in REFERENCE:
                findings.add(f"foreign key from a distributed table to a local table: {table}.{name} -> {target}")
        elif target in DISTRIBUTED:
            kind = "reference" if table in REFERENCE else "local"
            findings.add(f"foreign key into a distributed table from a {kind} table: {table}.{name} -> {target}")
        elif table in REFERENCE and target not in REFERENCE:
            findings.add(f"foreign key from a reference table to a local table: {table}.{name} -> {target}")
    return findings


def test_the_catalogue_meets_what_citus_requires():
    findings = catalogue_findings()
    assert sorted(findings - set(KNOWN_GAPS)) == [], "new gaps"
    assert sorted(set(KNOWN_GAPS) - findings) == [], "closed gaps: delete them from KNOWN_GAPS"


# --- the SQL the data paths emit ---------------------------------------------------------------------

REFERENCE_TO_TABLE = re.compile(
    r'\b(?P<how>FROM|JOIN|INTO|UPDATE|USING)\s+(?:ONLY\s+)?"?(?P<table>\w+)"?'
    r'(?:\s+(?:AS\s+)?"?(?P<alias>(?!(?:WHERE|ON|JOIN|LEFT|RIGHT|INNER|FULL|CROSS|GROUP|ORDER|SET|USING|LIMIT|'
    r'VALUES|SELECT|RETURNING|WITH|FOR|DEFAULT|OUTER|NATURAL|LATERAL|UNION|HAVING|WINDOW|OFFSET)\b)\w+)"?)?',
    re.IGNORECASE,
)
DATASET_EQUALITY = re.compile(r'"?(\w+)"?\."?dataset_id"?\s*=\s*"?(\w+)"?\."?dataset_id"?', re.IGNORECASE)


def pins(sql: str, alias: str) -> set[str] | None:
    """The datasets `alias` is pinned to (`alias.dataset_id = v` or `IN (v, ...)`), or None when it is not."""
    quoted = rf'"?{re.escape(alias)}"?\."?dataset_id"?'
    values = set()
    for match in re.finditer(rf"{quoted}\s*=\s*(\d+|'\d+')", sql, re.IGNORECASE):
        values.add(match.group(1).strip("'"))
    for match in re.finditer(rf"{quoted}\s+IN\s*\(([^)]*)\)", sql, re.IGNORECASE):
        values.add(match.group(1).replace(" ", ""))
    return values or None


def cross_dataset_joins(sql: str) -> str | None:
    """Why one statement could join two datasets' rows, or None. Only distributed tables count, and not the
    target of an INSERT (its rows come from the statement's SELECT, which is checked; Citus routes each row by
    the dataset_id it carries)."""
    refs = [
        (m["table"], m["alias"] or m["table"])
        for m in REFERENCE_TO_TABLE.finditer(sql)
        if m["table"] in DISTRIBUTED and m["how"].upper() != "INTO"
    ]
    if len(refs) < 2:
        return None
    aliases = [alias for _, alias in refs]
    parent = {alias: alias for alias in aliases}

    def root(alias):
        while parent[alias] != alias:
            alias = parent[alias]
        return alias

    for left, right in DATASET_EQUALITY.findall(sql):
        if left in parent and right in parent:
            parent[root(left)] = root(right)
    components = defaultdict(list)
    for alias in aliases:
        components[root(alias)].append(alias)
    if len(components) == 1:
        return None  # all joined on dataset_id
    pinned = []
    for members in components.values():
        values = next((pins(sql, alias) for alias in members if pins(sql, alias)), None)
        if values is None:
            return f"{', '.join(members)} neither joined on dataset_id nor pinned to one dataset"
        pinned.append(frozenset(values))
    if len(set(pinned)) > 1 or any(len(values) > 1 for values in pinned):
        return f"tables pinned to different datasets: {sorted(map(sorted, pinned))}"
    return None


@pytest.mark.parametrize(
    ("sql", "joins_datasets"),
    [
        ('SELECT 1 FROM "datasets_record" WHERE "datasets_record"."dataset_id" = 5', False),
        ("SELECT 1 FROM datasets_record r JOIN datasets_recordrollup u ON r.dataset_id = u.dataset_id", False),
        ("SELECT 1 FROM datasets_record r JOIN datasets_recordrollup u ON r.sensor_id = u.sensor_id", True),
        (
            "SELECT 1 FROM datasets_record r JOIN datasets_recordrollup u ON r.sensor_id = u.sensor_id "
            "WHERE r.dataset_id = 5 AND u.dataset_id = 5",
            False,
        ),
        (
            "SELECT 1 FROM datasets_record r JOIN datasets_recordrollup u ON r.sensor_id = u.sensor_id "
            "WHERE r.dataset_id = 5 AND u.dataset_id = 6",
            True,
        ),
        ("SELECT 1 FROM datasets_record a JOIN datasets_record b ON a.observed_from = b.observed_from", True),
        ("SELECT 1 FROM datasets_record r JOIN sensors_sensor s ON s.id = r.sensor_id", False),
        (
            "WITH u AS (INSERT INTO datasets_record AS r SELECT 5, x FROM stage RETURNING *) "
            "INSERT INTO datasets_recordrollup AS o SELECT dataset_id FROM u",
            False,
        ),
        ("UPDATE datasets_recordrollup u SET records = 0 FROM datasets_record r WHERE r.sensor_id = u.sensor_id", True),
    ],
)
def test_the_join_check_tells_a_join_across_datasets(sql, joins_datasets):
    assert (cross_dataset_joins(sql) is not None) is joins_datasets


def test_ingest_reads_and_retention_join_no_two_datasets_on_anything_but_dataset_id(world, key_client):
    """Also: reference tables do not grow with data (ingest, reads and retention add no row to them)."""
    reference_tables = sorted(REFERENCE & catalogue_tables())

    def sizes():
        return {table: rows(f'SELECT count(*) FROM "{table}"')[0][0] for table in reference_tables}  # noqa: S608

    client = key_client(world["city"], Role.ANALYST)
    before = sizes()
    with CaptureQueriesContext(connection) as captured:
        for day in (6, 7):
            records = [
                count_record(start=f"2026-01-0{day}T{hour:02d}:00:00Z", end=f"2026-01-0{day}T{hour:02d}:05:00Z")
                for hour in range(24)
            ]
            dataset_services.records_ingest(
                caller=as_role(world["city"], Role.INTEGRATOR),
                dataset=world["dataset"],
                body=orjson.dumps({"records": records}),
                content_type="application/json",
            )
        purpose = {"HTTP_X_PURPOSE": "stad-crowd-safety"}
        query = {"dataset": world["dataset"].pk}
        assert client.get("/api/v1/records/", {**query, "page_size": 10}, **purpose).status_code == 200
        for by in ("sensor", "area"):
            response = client.get("/api/v1/aggregates/counts/", {**query, "by": by}, **purpose)
            assert response.status_code == 200, response.content[:300]
        world["dataset"].retention_days = 1
        world["dataset"].save(update_fields=["retention_days"])
        dataset_retention_enforce(dataset=world["dataset"], now=datetime(2026, 1, 7, 12, tzinfo=UTC))
    statements = [query["sql"] for query in captured]
    assert any("datasets_record" in sql for sql in statements)
    problems = {sql: why for sql in statements if (why := cross_dataset_joins(sql))}
    assert problems == {}
    assert sizes() == before


MODIFICATION = re.compile(r'^\s*(?:UPDATE|DELETE\s+FROM)\s+"?(?P<table>\w+)"?', re.IGNORECASE)


def test_ingest_and_retention_change_rows_of_one_dataset_by_its_key(world):
    """An UPDATE or DELETE of a distributed table names the dataset: Citus routes it to one shard, and the
    primary key (which leads with dataset_id) serves it. A change by `id` alone would visit every shard, and
    scan the table here. Batches sent with an Idempotency-Key update their batch and their key."""
    caller = as_role(world["city"], Role.INTEGRATOR)
    with CaptureQueriesContext(connection) as captured:
        for day in (6, 7):
            records = [
                count_record(start=f"2026-01-0{day}T{hour:02d}:00:00Z", end=f"2026-01-0{day}T{hour:02d}:05:00Z")
                for hour in range(24)
            ]
            dataset_services.records_ingest(
                caller=caller,
                dataset=world["dataset"],
                body=orjson.dumps({"records": records}),
                content_type="application/json",
                idempotency_key=f"day-{day}",
            )
        world["dataset"].retention_days = 1
        world["dataset"].save(update_fields=["retention_days"])
        dataset_retention_enforce(dataset=world["dataset"], now=datetime(2026, 1, 7, 12, tzinfo=UTC))
    changes = [
        (match["table"], sql)
        for sql in (query["sql"] for query in captured)
        if (match := MODIFICATION.match(sql)) and match["table"] in DISTRIBUTED
    ]
    assert {"datasets_ingestbatch", "datasets_idempotencykey", "datasets_record"} <= {table for table, _ in changes}
    assert [sql for table, sql in changes if pins(sql, table) != {str(world["dataset"].pk)}] == []
