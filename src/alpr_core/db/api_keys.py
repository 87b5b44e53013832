"""API keys: created once with a random token, stored as its SHA-256, expired, rotated or
revoked, never deleted (the audit log refers to them)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, LiteralString, cast
from uuid import UUID

import psycopg
from psycopg.rows import class_row

Role = Literal["viewer", "admin", "ingest", "watchlist", "analyst"]
ROLES: tuple[Role, ...] = ("viewer", "admin", "ingest", "watchlist", "analyst")
TOKEN_PREFIX = "alpr_"  # noqa: S105 - a prefix that makes leaked tokens easy to spot
KEY_COLUMNS = "id, name, role, sites, cameras, created_at, revoked_at, expires_at, last_used_at"
# A key is valid until revoked and, when it has an expiry, until then.
VALID: LiteralString = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"
# The statement that finds a valid key by its hash and records its use, at most once a minute
# (the record changes nothing a cached key depends on, so it notifies no API process).
SELECT_AND_TOUCH: LiteralString = (
    f"WITH found AS (SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = %s AND {VALID}),"
    " touched AS (UPDATE api_keys SET last_used_at = now() WHERE id = (SELECT id FROM found)"
    " AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))"
    " SELECT * FROM found"
)


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: UUID
    name: str
    role: str
    sites: list[str] | None
    cameras: list[str] | None
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def create_key(
    conn: psycopg.Connection[Any],
    name: str,
    role: Role,
    sites: list[str] | None = None,
    cameras: list[str] | None = None,
    expires_in: timedelta | None = None,
) -> tuple[ApiKey, str]:
    """Store a new key; return it with its token, which is not stored and cannot be shown again."""
    token = new_token()
    with conn.cursor(row_factory=class_row(ApiKey)) as cursor:
        key = cursor.execute(
            "INSERT INTO api_keys (name, key_hash, role, sites, cameras, expires_at)"
            f" VALUES (%s, %s, %s, %s, %s, now() + %s) RETURNING {KEY_COLUMNS}",
            (name, token_hash(token), role, sites or None, cameras or None, expires_in),
        ).fetchone()
    assert key is not None  # RETURNING always yields the row
    return key, token


def rotate_key(
    conn: psycopg.Connection[Any], key_id: UUID, grace: timedelta, expires_in: timedelta | None
) -> tuple[ApiKey, str] | None:
    """A new key with the old one's name, role and scope; the old one stops working after
    ``grace`` (at once when zero). None when there is no valid key ``key_id``."""
    with conn.transaction(), conn.cursor(row_factory=class_row(ApiKey)) as cursor:
        old = cursor.execute(
            f"SELECT {KEY_COLUMNS} FROM api_keys WHERE id = %s AND {VALID} FOR UPDATE", (key_id,)
        ).fetchone()
        if old is None:
            return None
        new, token = create_key(
            conn, old.name, cast(Role, old.role), old.sites, old.cameras, expires_in
        )
        conn.execute(
            "UPDATE api_keys SET replaced_by = %s,"
            " expires_at = least(coalesce(expires_at, 'infinity'), now() + %s) WHERE id = %s",
            (new.id, grace, key_id),
        )
    return new, token


def list_keys(conn: psycopg.Connection[Any]) -> list[ApiKey]:
    with conn.cursor(row_factory=class_row(ApiKey)) as cursor:
        return cursor.execute(f"SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at").fetchall()


def revoke_key(conn: psycopg.Connection[Any], key_id: UUID) -> bool:
    """Revoke the key; False when there is no such key or it was revoked already."""
    revoked = conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL", (key_id,)
    ).rowcount
    return revoked == 1
