"""The SQL of a list's webhooks (migration 0020, docs/decisions.md#alert-delivery). Callers have
checked that the key may hold the list (``db/watchlists.py``); the secret is returned only when
a webhook is made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import class_row

WEBHOOK_COLUMNS: LiteralString = (
    "id, watchlist_id, url, enabled, max_failures, consecutive_failures, disabled_at, created_at"
)


@dataclass(frozen=True, slots=True)
class Webhook:
    id: UUID
    watchlist_id: UUID
    url: str
    enabled: bool
    max_failures: int
    consecutive_failures: int
    disabled_at: datetime | None
    created_at: datetime


async def list_webhooks(conn: AsyncConnection[Any], watchlist_id: UUID) -> list[Webhook]:
    cursor = conn.cursor(row_factory=class_row(Webhook))
    await cursor.execute(
        f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE watchlist_id = %s ORDER BY created_at, id",
        (watchlist_id,),
    )
    return await cursor.fetchall()


async def create_webhook(
    conn: AsyncConnection[Any], watchlist_id: UUID, url: str, max_failures: int, secret: str
) -> Webhook:
    cursor = conn.cursor(row_factory=class_row(Webhook))
    await cursor.execute(
        "INSERT INTO webhooks (watchlist_id, url, max_failures, secret) VALUES (%s, %s, %s, %s)"
        f" RETURNING {WEBHOOK_COLUMNS}",
        (watchlist_id, url, max_failures, secret),
    )
    created = await cursor.fetchone()
    assert created is not None  # an INSERT ... RETURNING returns its row
    return created


async def set_enabled(
    conn: AsyncConnection[Any], watchlist_id: UUID, webhook_id: UUID, enabled: bool
) -> Webhook | None:
    """Switch a webhook on (its run of failures starts again) or off."""
    cursor = conn.cursor(row_factory=class_row(Webhook))
    await cursor.execute(
        "UPDATE webhooks SET enabled = %(enabled)s, updated_at = now(),"
        " consecutive_failures = CASE WHEN %(enabled)s THEN 0 ELSE consecutive_failures END,"
        " disabled_at = CASE WHEN %(enabled)s THEN NULL ELSE now() END"
        f" WHERE id = %(id)s AND watchlist_id = %(list)s RETURNING {WEBHOOK_COLUMNS}",
        {"enabled": enabled, "id": webhook_id, "list": watchlist_id},
    )
    return await cursor.fetchone()


async def delete_webhook(conn: AsyncConnection[Any], watchlist_id: UUID, webhook_id: UUID) -> bool:
    cursor = await conn.execute(
        "DELETE FROM webhooks WHERE id = %s AND watchlist_id = %s", (webhook_id, watchlist_id)
    )
    return cursor.rowcount == 1
