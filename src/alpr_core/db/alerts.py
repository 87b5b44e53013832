"""The SQL of watchlist alerts (migration 0019, docs/decisions.md#watchlist-matching): the
active entries the matcher indexes, and an alert opened or joined for each matched read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from psycopg import Connection

from alpr_core.alerts.matcher import ActiveEntry
from alpr_core.events.model import PlateEvent

# A read with the open alert's track_id joins it this long after the alert's last read at most:
# edges restart their track counters, and a track id seen again days later is another pass.
TRACK_HORIZON = timedelta(days=1)


def active_entries(conn: Connection[Any]) -> list[ActiveEntry]:
    """Every entry not yet expired, with its list's priority and sites."""
    rows = conn.execute(
        "SELECT e.id, e.watchlist_id, e.plate_normalized, e.match_mode, e.max_distance,"
        " e.valid_from, e.valid_until, e.cameras, e.sites, e.directions, e.hours_of_week,"
        " w.sites, w.priority"
        " FROM watchlist_entries e JOIN watchlists w ON w.id = e.watchlist_id"
        " WHERE e.valid_until IS NULL OR e.valid_until > now()"
    ).fetchall()
    return [
        ActiveEntry(
            id=row[0],
            watchlist_id=row[1],
            plate_normalized=row[2],
            match_mode=row[3],
            max_distance=row[4],
            valid_from=row[5],
            valid_until=row[6],
            cameras=_set(row[7]),
            sites=_set(row[8]),
            directions=_set(row[9]),
            hours_of_week=_set(row[10]),
            list_sites=_set(row[11]),
            priority=row[12],
        )
        for row in rows
    ]


def _set(values: list[Any] | None) -> frozenset[Any] | None:
    return None if values is None else frozenset(values)


def entries_version(conn: Connection[Any]) -> tuple[Any, ...]:
    """Changes whenever an entry or a list is added, changed or deleted."""
    row = conn.execute(
        "SELECT (SELECT (count(*), max(updated_at)) FROM watchlist_entries)::text,"
        " (SELECT (count(*), max(updated_at)) FROM watchlists)::text"
    ).fetchone()
    assert row is not None  # a SELECT without FROM returns a row
    return tuple(row)


def record_hits(
    conn: Connection[Any], hits: Sequence[tuple[ActiveEntry, PlateEvent]], window: timedelta
) -> int:
    """Add each (entry, read) to its pass's alert, opening one (with its outbox row) when the
    read starts a new pass; a read the entry's alerts already hold changes nothing. Returns the
    alerts opened. One transaction; passes are locked in one order, so concurrent writers
    neither deadlock nor open one pass twice."""
    opened = 0
    ordered = sorted(hits, key=lambda hit: (str(hit[0].id), hit[1].camera_id))
    with conn.transaction():
        for entry, event in ordered:
            opened += _record_hit(conn, entry, event, window)
    return opened


def _record_hit(
    conn: Connection[Any], entry: ActiveEntry, event: PlateEvent, window: timedelta
) -> bool:
    read = {
        "entry": entry.id,
        "list": entry.watchlist_id,
        "priority": entry.priority,
        "event": event.event_id,
        "at": event.captured_at,
        "camera": event.camera_id,
        "site": event.site,
        "track": event.track_id,
        "plate": event.plate_text,
        "normalized": event.plate_normalized,
        "window": window,
        "horizon": TRACK_HORIZON,
    }
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%(entry)s::text || %(camera)s, 0))",
        read,
    )
    held = conn.execute(
        "SELECT 1 FROM alert_reads WHERE entry_id = %(entry)s AND event_id = %(event)s", read
    ).fetchone()
    if held:
        return False
    joined = conn.execute(
        "UPDATE alerts SET first_seen = least(first_seen, %(at)s),"
        " last_seen = greatest(last_seen, %(at)s), read_count = read_count + 1, updated_at = now()"
        " WHERE id = (SELECT id FROM alerts WHERE entry_id = %(entry)s AND camera_id = %(camera)s"
        "   AND ((track_id = %(track)s AND %(at)s < last_seen + %(horizon)s"
        "         AND %(at)s > first_seen - %(horizon)s)"
        "        OR %(at)s BETWEEN first_seen - %(window)s AND last_seen + %(window)s)"
        "   ORDER BY last_seen DESC LIMIT 1)"
        " RETURNING id",
        read,
    ).fetchone()
    if joined is not None:
        alert_id = joined[0]
    else:
        created = conn.execute(
            "INSERT INTO alerts (watchlist_id, entry_id, priority, plate_text, plate_normalized,"
            " camera_id, site, track_id, first_seen, last_seen) VALUES (%(list)s, %(entry)s,"
            " %(priority)s, %(plate)s, %(normalized)s, %(camera)s, %(site)s, %(track)s, %(at)s,"
            " %(at)s) RETURNING id",
            read,
        ).fetchone()
        assert created is not None  # an INSERT ... RETURNING returns its row
        alert_id = created[0]
        conn.execute("INSERT INTO alert_outbox (alert_id) VALUES (%s)", (alert_id,))
    conn.execute(
        'INSERT INTO alert_reads (alert_id, entry_id, event_id, "timestamp")'
        " VALUES (%s, %s, %s, %s)",
        (alert_id, entry.id, event.event_id, event.captured_at),
    )
    return joined is None
