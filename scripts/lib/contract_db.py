"""Create or drop the contract run's own database on the PostgreSQL server DATABASE_URL points at.

`contract_db.py create URL NAME` drops NAME if a previous run left it, creates it, and prints the URL
of the new database; `contract_db.py drop URL NAME` drops it. URL may name any database on the server.
"""

import re
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def admin_connection(url: str) -> psycopg.Connection:
    # Connected to the maintenance database: a database cannot be dropped from inside itself.
    return psycopg.connect(with_database(url, "postgres"), autocommit=True)


def main(command: str, url: str, name: str) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"not a plain database name: {name!r}")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("the contract check runs on PostgreSQL: DATABASE_URL must be postgres://...")
    with admin_connection(url) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if command == "create":
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(with_database(url, name))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in {"create", "drop"}:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
