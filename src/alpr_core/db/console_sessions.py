"""Console sessions (migration 0030, docs/decisions.md#console): a session token stands for the
API key it was made from, until the session expires or the key stops being valid."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, LiteralString
from uuid import UUID

from psycopg import AsyncConnection

from alpr_core.db.api_keys import ApiKey, token_hash

SESSION_PREFIX = "alprs_"  # makes leaked session tokens easy to spot

# the key's validity is checked on every request, so a revoked key's sessions end at once
_SESSION_KEY: LiteralString = (
    "SELECT k.id, k.name, k.role, k.sites, k.cameras, k.created_at, k.revoked_at, k.expires_at,"
    " k.last_used_at, s.csrf_token"
    " FROM console_sessions s JOIN api_keys k ON k.id = s.key_id"
    " WHERE s.token_hash = %s AND s.expires_at > now()"
    " AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())"
)


@dataclass(frozen=True, slots=True)
class Session:
    key: ApiKey
    csrf_token: str


async def open_session(
    conn: AsyncConnection[Any], key_id: UUID, lifetime: timedelta
) -> tuple[str, str]:
    """A new session for ``key_id``: (its token, its CSRF token). Expired sessions go first."""
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    await conn.execute("DELETE FROM console_sessions WHERE expires_at <= now()")
    await conn.execute(
        "INSERT INTO console_sessions (token_hash, key_id, csrf_token, expires_at)"
        " VALUES (%s, %s, %s, now() + %s)",
        (token_hash(token), key_id, csrf, lifetime),
    )
    return token, csrf


async def session_of(conn: AsyncConnection[Any], token: str) -> Session | None:
    """The session of ``token`` while it and its key are valid."""
    cursor = await conn.execute(_SESSION_KEY, (token_hash(token),), prepare=True)
    row = await cursor.fetchone()
    return None if row is None else Session(ApiKey(*row[:-1]), row[-1])


async def close_session(conn: AsyncConnection[Any], token: str) -> None:
    await conn.execute("DELETE FROM console_sessions WHERE token_hash = %s", (token_hash(token),))
