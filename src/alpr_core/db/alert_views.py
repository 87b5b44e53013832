"""The SQL of ``/alerts`` (docs/decisions.md#watchlist-matching): pages of alerts, one alert with
its reads, and the workflow's changes, each inside the key's scope. A key limited to sites or
cameras sees only the alerts of its sites or cameras; another alert is, to it, not there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, LiteralString
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import class_row

from alpr_core.api.queries import scope_clause
from alpr_core.db.api_keys import ApiKey

AlertStatus = Literal["new", "acknowledged", "confirmed", "dismissed"]
ALERT_COLUMNS: LiteralString = (
    "id, watchlist_id, entry_id, priority, plate_text, plate_normalized, camera_id, site,"
    " track_id, first_seen, last_seen, read_count, status, acknowledged_by, acknowledged_at,"
    " resolved_by, resolved_at, note"
)
# The workflow: which status each action leads to, and from which statuses.
TRANSITIONS: dict[str, tuple[AlertStatus, tuple[AlertStatus, ...]]] = {
    "acknowledge": ("acknowledged", ("new",)),
    "confirm": ("confirmed", ("acknowledged",)),
    "dismiss": ("dismissed", ("acknowledged",)),
}


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    watchlist_id: UUID
    entry_id: UUID
    priority: str
    plate_text: str
    plate_normalized: str
    camera_id: str
    site: str | None
    track_id: str
    first_seen: datetime
    last_seen: datetime
    read_count: int
    status: AlertStatus
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    note: str | None


@dataclass(frozen=True, slots=True)
class AlertRead:
    """A read an alert holds: ``plate_id`` is its id in ``/plates``, None once retention has
    deleted it."""

    plate_id: int | None
    event_id: UUID
    timestamp: datetime
    confidence: float | None
    plate_text: str | None
    has_image: bool


@dataclass(frozen=True, slots=True)
class AlertFilters:
    status: AlertStatus | None = None
    priority: str | None = None
    watchlist_id: UUID | None = None
    camera_id: str | None = None
    site: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _scope(key: ApiKey, params: dict[str, Any]) -> LiteralString:
    """The ``/plates`` scope rule: alerts have the same ``site`` and ``camera_id`` columns."""
    return " AND ".join(["TRUE", *scope_clause(key, params)])


_FILTERS: dict[str, LiteralString] = {
    "status": "status = %(status)s",
    "priority": "priority = %(priority)s",
    "watchlist_id": "watchlist_id = %(watchlist_id)s",
    "camera_id": "camera_id = %(camera_id)s",
    "site": "site = %(site)s",
    "since": "first_seen >= %(since)s",
    "until": "first_seen < %(until)s",
}


def alerts_page_query(
    key: ApiKey, filters: AlertFilters, after: tuple[datetime, int] | None, limit: int
) -> tuple[LiteralString, dict[str, Any]]:
    """Newest pass first; ``limit + 1`` rows, so the caller knows whether a page follows."""
    params: dict[str, Any] = {"limit": limit + 1}
    clauses: list[LiteralString] = [_scope(key, params)]
    for name, clause in _FILTERS.items():
        value = getattr(filters, name)
        if value is not None:
            clauses.append(clause)
            params[name] = value
    if after is not None:
        clauses.append("(first_seen, id) < (%(after_seen)s, %(after_id)s)")
        params |= {"after_seen": after[0], "after_id": after[1]}
    where: LiteralString = " AND ".join(clauses)
    query: LiteralString = (
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE {where}"
        " ORDER BY first_seen DESC, id DESC LIMIT %(limit)s"
    )
    return query, params


async def get_alert(conn: AsyncConnection[Any], key: ApiKey, alert_id: int) -> Alert | None:
    params: dict[str, Any] = {"id": alert_id}
    cursor = conn.cursor(row_factory=class_row(Alert))
    await cursor.execute(
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE id = %(id)s AND {_scope(key, params)}", params
    )
    return await cursor.fetchone()


async def reads_of(conn: AsyncConnection[Any], alert_id: int) -> list[AlertRead]:
    cursor = conn.cursor(row_factory=class_row(AlertRead))
    await cursor.execute(
        'SELECT d.id AS plate_id, r.event_id, r."timestamp", d.confidence, d.plate_text,'
        " coalesce(d.image_object_key IS NOT NULL OR d.plate_url IS NOT NULL, FALSE) AS has_image"
        " FROM alert_reads r LEFT JOIN plate_detections d"
        '   ON d.event_id = r.event_id AND d."timestamp" = r."timestamp"'
        ' WHERE r.alert_id = %s ORDER BY r."timestamp", r.event_id',
        (alert_id,),
    )
    return await cursor.fetchall()


async def change_status(
    conn: AsyncConnection[Any], key: ApiKey, alert_id: int, action: str, note: str | None
) -> Alert | None:
    """Apply ``action`` when the alert is in a status it may follow; None when the alert is
    not visible or not in such a status (``get_alert`` tells which)."""
    status, allowed_from = TRANSITIONS[action]
    who: LiteralString = "acknowledged" if action == "acknowledge" else "resolved"
    params: dict[str, Any] = {
        "id": alert_id,
        "status": status,
        "from": list(allowed_from),
        "who": key.name,
        "note": note,
    }
    cursor = conn.cursor(row_factory=class_row(Alert))
    await cursor.execute(
        f"UPDATE alerts SET status = %(status)s, {who}_by = %(who)s, {who}_at = now(),"
        " note = coalesce(%(note)s, note), updated_at = now()"
        f" WHERE id = %(id)s AND status = ANY(%(from)s) AND {_scope(key, params)}"
        f" RETURNING {ALERT_COLUMNS}",
        params,
    )
    return await cursor.fetchone()


# Alerts whose outbox row may have committed after a later one: a resumed stream sends them again
# (docs/api.md, "Live alerts"); clients drop the ids they have.
RESUME_OVERLAP: LiteralString = "10 seconds"


async def alert_events(
    conn: AsyncConnection[Any],
    key: ApiKey,
    *,
    outbox_ids: list[int] | None = None,
    resume_after: int | None = None,
    limit: int = 1000,
) -> list[tuple[int, Alert]]:
    """Alerts in the key's scope with their outbox ids (the stream's event ids), by outbox id:
    those of ``outbox_ids``, or those after ``resume_after`` (with the overlap before it)."""
    params: dict[str, Any] = {"ids": outbox_ids or [], "after": resume_after, "limit": limit}
    which: LiteralString = "o.id = ANY(%(ids)s)"
    if resume_after is not None:
        which = (
            "(o.id > %(after)s OR o.created_at >= (SELECT created_at - interval"
            f" '{RESUME_OVERLAP}' FROM alert_outbox WHERE id = %(after)s))"
        )
    alert_columns: LiteralString = ", ".join(f"a.{c.strip()}" for c in ALERT_COLUMNS.split(","))
    cursor = await conn.execute(
        f"SELECT o.id, {alert_columns} FROM alert_outbox o JOIN alerts a ON a.id = o.alert_id"
        f" WHERE {which} AND {_scope(key, params)} ORDER BY o.id LIMIT %(limit)s",
        params,
    )
    return [(row[0], Alert(*row[1:])) for row in await cursor.fetchall()]
