"""Database triggers that keep the access log and the privacy ledger append-only (used by migrations and by
`flush`)."""

# What migration 0002 made append-only: fixed, since that migration runs before the tables below exist.
ACCESS_LOG_TABLES = ("purposes_accessevent", "purposes_accesseventdataset")
# The privacy budget's ledger of spends (migration 0004).
LEDGER_TABLES = ("purposes_privacyspend",)
APPEND_ONLY_TABLES = ACCESS_LOG_TABLES + LEDGER_TABLES

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def create_sql(vendor: str, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> list[str]:
    statements = [POSTGRESQL_FUNCTION] if vendor == "postgresql" else []
    for table in tables:
        if vendor == "postgresql":
            statements += [
                f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION access_log_append_only()",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()",
            ]
        elif vendor == "sqlite":
            for operation in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
                )
    return statements


def drop_sql(vendor: str, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> list[str]:
    statements = []
    for table in tables:
        if vendor == "postgresql":
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            ]
        elif vendor == "sqlite":
            statements += [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]
    return statements


def execute(connection, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
