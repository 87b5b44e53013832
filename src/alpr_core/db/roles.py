"""The services' database logins (docs/decisions.md#database-roles).

Migration 0016 makes the group roles ``alpr_writer`` (the storage service) and ``alpr_reader``
(the query API) and grants them what they may do. A login is a member of one of them and holds
nothing of its own. Its password reaches the server already hashed (SCRAM), so it appears in no
statement a server log could keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from psycopg import sql

from alpr_core.config import DatabaseSettings, ServiceLoginSettings

GroupRole = Literal["alpr_writer", "alpr_reader"]


@dataclass(frozen=True, slots=True)
class ServiceLogin:
    user: str
    password: str
    group: GroupRole


def ensure_login(conn: psycopg.Connection[Any], login: ServiceLogin) -> None:
    """Create ``login`` or set its password, and make it a member of its group alone."""
    hashed = conn.pgconn.encrypt_password(
        login.password.encode(), login.user.encode(), b"scram-sha-256"
    ).decode()
    name = sql.Identifier(login.user)
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login.user,)).fetchone()
    verb = "ALTER" if exists else "CREATE"
    conn.execute(
        sql.SQL(verb + " ROLE {} LOGIN NOCREATEDB NOCREATEROLE PASSWORD {}").format(
            name, sql.Literal(hashed)
        )
    )
    others = conn.execute(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
        " JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s AND g.rolname <> %s",
        (login.user, login.group),
    ).fetchall()
    for (other,) in others:
        conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(other), name))
    conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(login.group), name))


def service_logins(logins: ServiceLoginSettings) -> list[ServiceLogin]:
    """The logins whose passwords are set: ``DB_WRITER_*`` and ``DB_READER_*``."""
    wanted: list[tuple[str, str, GroupRole]] = [
        (logins.writer_user, logins.writer_password.get_secret_value(), "alpr_writer"),
        (logins.reader_user, logins.reader_password.get_secret_value(), "alpr_reader"),
    ]
    return [ServiceLogin(user, password, group) for user, password, group in wanted if password]


def ensure_service_logins(db: DatabaseSettings, wanted: ServiceLoginSettings) -> list[str]:
    """Make or update, as ``db``'s user, the logins of ``service_logins``; their names."""
    logins = service_logins(wanted)
    if logins:
        with psycopg.connect(db.conninfo(), autocommit=True) as conn:
            for login in logins:
                ensure_login(conn, login)
    return [login.user for login in logins]
