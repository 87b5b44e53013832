"""The SQL of alert delivery (migrations 0020 and 0021, docs/decisions.md#alert-delivery): the
channels a dispatcher serves, the due deliveries with what they send, and their outcomes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal
from uuid import UUID

from psycopg import Connection
from psycopg.rows import dict_row

# Retries wait 2^attempts seconds, up to this.
MAX_BACKOFF = timedelta(minutes=10)

ChannelName = Literal["webhook", "kafka", "mqtt"]
# The channels every alert goes to when configured; webhooks are per list.
DEPLOYMENT_CHANNELS: tuple[ChannelName, ...] = ("kafka", "mqtt")


@dataclass(frozen=True, slots=True)
class DueDelivery:
    id: int
    outbox_id: int  # the idempotency key receivers drop repeats by
    channel: ChannelName
    webhook_id: UUID | None  # with url and secret, for the webhook channel only
    url: str | None
    secret: str | None
    attempts: int
    payload: dict[str, Any]


def enable_channels(conn: Connection[Any], enabled: Collection[ChannelName]) -> None:
    """Mark the deployment channels in ``enabled`` on and the others off: new alerts get a
    delivery row for each channel on."""
    conn.execute(
        "INSERT INTO alert_channels (name, enabled)"
        " SELECT name, name = ANY(%s) FROM unnest(%s::text[]) AS name"
        " ON CONFLICT (name) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()"
        " WHERE alert_channels.enabled IS DISTINCT FROM EXCLUDED.enabled",
        (list(enabled), list(DEPLOYMENT_CHANNELS)),
    )


def due_deliveries(
    conn: Connection[Any], limit: int, channels: Collection[ChannelName]
) -> list[DueDelivery]:
    """Deliveries on ``channels`` whose time has come (to enabled webhooks), oldest first, with
    their payload."""
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT d.id, d.outbox_id, d.channel, w.id AS webhook_id, w.url, w.secret,"
            " d.attempts,"
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
            " LEFT JOIN webhooks w ON w.id = d.webhook_id"
            " JOIN alert_outbox o ON o.id = d.outbox_id"
            " JOIN alerts a ON a.id = o.alert_id"
            " JOIN watchlists l ON l.id = a.watchlist_id"
            " LEFT JOIN watchlist_entries e ON e.id = a.entry_id"
            " WHERE d.delivered_at IS NULL AND d.next_attempt_at <= now()"
            "   AND d.channel = ANY(%s) AND (d.webhook_id IS NULL OR w.enabled)"
            " ORDER BY d.id LIMIT %s",
            (list(channels), limit),
        )
        .fetchall()
    )
    return [DueDelivery(**row) for row in rows]


def delivered(conn: Connection[Any], deliveries: Sequence[DueDelivery]) -> None:
    """Mark ``deliveries`` delivered, and their webhooks' runs of failures ended, in one
    transaction."""
    webhooks = sorted({str(d.webhook_id) for d in deliveries if d.webhook_id is not None})
    with conn.transaction():
        conn.execute(
            "UPDATE alert_deliveries SET delivered_at = now(), attempts = attempts + 1,"
            " last_error = NULL WHERE id = ANY(%s)",
            ([d.id for d in deliveries],),
        )
        if webhooks:
            conn.execute(
                "UPDATE webhooks SET consecutive_failures = 0"
                " WHERE id = ANY(%s::uuid[]) AND consecutive_failures <> 0",
                (webhooks,),
            )


def failed(conn: Connection[Any], delivery: DueDelivery, error: str) -> bool:
    """Record a failed attempt and schedule the next; True when this failure switched a webhook
    off (its run of failures reached ``max_failures``). Deployment channels are never switched
    off: their deliveries wait, with backoff, until the broker takes them."""
    backoff = min(timedelta(seconds=2**delivery.attempts), MAX_BACKOFF)
    with conn.transaction():
        conn.execute(
            "UPDATE alert_deliveries SET attempts = attempts + 1, last_error = %s,"
            " next_attempt_at = now() + %s WHERE id = %s",
            (error[:500], backoff, delivery.id),
        )
        if delivery.webhook_id is None:
            return False
        row = conn.execute(
            "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1,"
            " enabled = consecutive_failures + 1 < max_failures,"
            " disabled_at = CASE WHEN consecutive_failures + 1 >= max_failures THEN now() END"
            " WHERE id = %s AND enabled RETURNING enabled",
            (delivery.webhook_id,),
        ).fetchone()
    return row is not None and not row[0]


def backlog(conn: Connection[Any]) -> tuple[int, float]:
    """Undelivered deliveries to enabled webhooks and channels, and the age in seconds of the
    oldest one's alert (0 when none wait)."""
    row = conn.execute(
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(o.created_at)), 0)"
        " FROM alert_deliveries d"
        " LEFT JOIN webhooks w ON w.id = d.webhook_id"
        " LEFT JOIN alert_channels c ON c.name = d.channel"
        " JOIN alert_outbox o ON o.id = d.outbox_id"
        " WHERE d.delivered_at IS NULL AND (w.enabled OR c.enabled)"
    ).fetchone()
    assert row is not None  # an aggregate returns a row
    return int(row[0]), float(row[1])
