"""The SQL of alert delivery (migration 0020, docs/decisions.md#alert-delivery): the due webhook
deliveries with what they send, and their outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.rows import dict_row

# Retries wait 2^attempts seconds, up to this.
MAX_BACKOFF = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class DueDelivery:
    id: int
    outbox_id: int
    webhook_id: UUID
    url: str
    secret: str
    attempts: int
    payload: dict[str, Any]


def due_deliveries(conn: Connection[Any], limit: int) -> list[DueDelivery]:
    """Deliveries whose time has come, to enabled webhooks, oldest first, with their payload."""
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT d.id, d.outbox_id, w.id AS webhook_id, w.url, w.secret, d.attempts,"
            " json_build_object("
            "   'type', 'alert.opened', 'delivery', d.outbox_id,"
            "   'alert', json_build_object('id', a.id, 'priority', a.priority, 'status', a.status,"
            "     'plate_text', a.plate_text, 'plate_normalized', a.plate_normalized,"
            "     'camera_id', a.camera_id, 'site', a.site, 'track_id', a.track_id,"
            "     'first_seen', a.first_seen, 'last_seen', a.last_seen,"
            "     'read_count', a.read_count),"
            "   'watchlist', json_build_object('id', l.id, 'name', l.name),"
            "   'entry', CASE WHEN e.id IS NULL THEN NULL ELSE json_build_object('id', e.id,"
            "     'plate', e.plate, 'match_mode', e.match_mode, 'reason', e.reason,"
            "     'reference', e.reference) END"
            " )::jsonb AS payload"
            " FROM alert_deliveries d"
            " JOIN webhooks w ON w.id = d.webhook_id AND w.enabled"
            " JOIN alert_outbox o ON o.id = d.outbox_id"
            " JOIN alerts a ON a.id = o.alert_id"
            " JOIN watchlists l ON l.id = a.watchlist_id"
            " LEFT JOIN watchlist_entries e ON e.id = a.entry_id"
            " WHERE d.delivered_at IS NULL AND d.next_attempt_at <= now()"
            " ORDER BY d.id LIMIT %s",
            (limit,),
        )
        .fetchall()
    )
    return [DueDelivery(**row) for row in rows]


def delivered(conn: Connection[Any], delivery: DueDelivery) -> None:
    with conn.transaction():
        conn.execute(
            "UPDATE alert_deliveries SET delivered_at = now(), attempts = attempts + 1,"
            " last_error = NULL WHERE id = %s",
            (delivery.id,),
        )
        conn.execute(
            "UPDATE webhooks SET consecutive_failures = 0 WHERE id = %s", (delivery.webhook_id,)
        )


def failed(conn: Connection[Any], delivery: DueDelivery, error: str) -> bool:
    """Record a failed attempt and schedule the next; True when this failure switched the
    webhook off (its run of failures reached ``max_failures``)."""
    backoff = min(timedelta(seconds=2**delivery.attempts), MAX_BACKOFF)
    with conn.transaction():
        conn.execute(
            "UPDATE alert_deliveries SET attempts = attempts + 1, last_error = %s,"
            " next_attempt_at = now() + %s WHERE id = %s",
            (error[:500], backoff, delivery.id),
        )
        row = conn.execute(
            "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1,"
            " enabled = consecutive_failures + 1 < max_failures,"
            " disabled_at = CASE WHEN consecutive_failures + 1 >= max_failures THEN now() END"
            " WHERE id = %s AND enabled RETURNING enabled",
            (delivery.webhook_id,),
        ).fetchone()
    return row is not None and not row[0]


def backlog(conn: Connection[Any]) -> tuple[int, float]:
    """Undelivered deliveries to enabled webhooks, and the age in seconds of the oldest one's
    alert (0 when none wait)."""
    row = conn.execute(
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(o.created_at)), 0)"
        " FROM alert_deliveries d"
        " JOIN webhooks w ON w.id = d.webhook_id AND w.enabled"
        " JOIN alert_outbox o ON o.id = d.outbox_id"
        " WHERE d.delivered_at IS NULL"
    ).fetchone()
    assert row is not None  # an aggregate returns a row
    return int(row[0]), float(row[1])
