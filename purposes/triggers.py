"""Database triggers that keep the access log append-only (used by a migration and by `flush`)."""

APPEND_ONLY_TABLES = ("purposes_accessevent", "purposes_accesseventdataset")

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def create_sql(vendor: str) -> list[str]:
    statements = [POSTGRESQL_FUNCTION] if vendor == "postgresql" else []
    for table in APPEND_ONLY_TABLES:
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
                    f"BEGIN SELECT RAISE(ABORT, 'the access log is append-only: {operation} refused'); END"
                )
    return statements


def drop_sql(vendor: str) -> list[str]:
    statements = []
    for table in APPEND_ONLY_TABLES:
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
