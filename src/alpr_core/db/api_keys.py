"""API keys: created once with a random token, stored as its SHA-256, revoked, never deleted
(the audit log refers to them)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import psycopg
from psycopg.rows import class_row

Role = Literal["viewer", "admin", "ingest"]
ROLES: tuple[Role, ...] = ("viewer", "admin", "ingest")
TOKEN_PREFIX = "alpr_"  # noqa: S105 - a prefix that makes leaked tokens easy to spot
KEY_COLUMNS = "id, name, role, sites, cameras, created_at, revoked_at"


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: UUID
    name: str
    role: str
    sites: list[str] | None
    cameras: list[str] | None
    created_at: datetime
    revoked_at: datetime | None


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
) -> tuple[ApiKey, str]:
    """Store a new key; return it with its token, which is not stored and cannot be shown again."""
    token = new_token()
    with conn.cursor(row_factory=class_row(ApiKey)) as cursor:
        key = cursor.execute(
            "INSERT INTO api_keys (name, key_hash, role, sites, cameras)"
            f" VALUES (%s, %s, %s, %s, %s) RETURNING {KEY_COLUMNS}",
            (name, token_hash(token), role, sites or None, cameras or None),
        ).fetchone()
    assert key is not None  # RETURNING always yields the row
    return key, token


def list_keys(conn: psycopg.Connection[Any]) -> list[ApiKey]:
    with conn.cursor(row_factory=class_row(ApiKey)) as cursor:
        return cursor.execute(f"SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at").fetchall()


def revoke_key(conn: psycopg.Connection[Any], key_id: UUID) -> bool:
    """Revoke the key; False when there is no such key or it was revoked already."""
    revoked = conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL", (key_id,)
    ).rowcount
    return revoked == 1
