"""Apply the versioned SQL migrations in ``migrations/``, each once, in order.

A run takes an advisory lock, so concurrent starts (several consumers, the API) cannot race.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files

import psycopg

_LOCK_KEY = 0x41_4C_50_52  # "ALPR"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    found = []
    for entry in (files("alpr_core.db") / "migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text()))
    return sorted(found, key=lambda migration: migration.version)


def migrate(conninfo: str, up_to: int | None = None) -> list[Migration]:
    """Apply what is missing (up to version ``up_to``, if given); return the migrations applied
    by this call."""
    wanted = [m for m in available_migrations() if up_to is None or m.version <= up_to]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            return [m for m in wanted if _apply_if_missing(conn, m)]
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


def _apply_if_missing(conn: psycopg.Connection[tuple[object, ...]], migration: Migration) -> bool:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
    done = conn.execute(
        "SELECT 1 FROM schema_migrations WHERE version = %s", (migration.version,)
    ).fetchone()
    if done:
        return False
    with conn.transaction():
        conn.execute(migration.sql.encode())
        conn.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
            (migration.version, migration.name),
        )
    return True
