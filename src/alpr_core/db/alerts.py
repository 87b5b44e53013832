"""The SQL of watchlist alerts (migration 0019, docs/decisions.md#watchlist-matching): the
active entries the matcher indexes, and an alert opened or joined for each matched read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from psycopg import Connection
from psycopg.types.json import Jsonb

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
    """Changes whenever an entry or a list is added, changed or deleted (migration 0023)."""
    row = conn.execute("SELECT changes FROM watchlist_changes").fetchone()
    return tuple(row) if row is not None else ()


def record_hits(
    conn: Connection[Any], hits: Sequence[tuple[ActiveEntry, PlateEvent]], window: timedelta
) -> list[tuple[str, str]]:
    """Add each (entry, read) to its pass's alert, opening one (with its outbox row) when the
    read starts a new pass; a read the entry's alerts already hold changes nothing. Returns the
    alerts opened as (list name, priority). One statement (``alpr_record_passes``, migration
    0024) for the batch's passes (:func:`passes_of`)."""
    opened = conn.execute(
        "SELECT list_name, list_priority FROM alpr_record_passes(%s, %s, %s)",
        (Jsonb(passes_of(hits, window)), window, TRACK_HORIZON),
    ).fetchall()
    return [(str(name), str(priority)) for name, priority in opened]


def passes_of(
    hits: Sequence[tuple[ActiveEntry, PlateEvent]], window: timedelta
) -> list[dict[str, Any]]:
    """The hits as passes: of one entry at one camera with one track_id, each read within
    ``window`` of the one before, in order of entry and camera (the order the locks are taken
    in), then track and time."""
    ordered = sorted(
        hits,
        key=lambda hit: (str(hit[0].id), hit[1].camera_id, hit[1].track_id, hit[1].captured_at),
    )
    passes: list[dict[str, Any]] = []
    last: tuple[ActiveEntry, PlateEvent] | None = None
    for entry, event in ordered:
        if (
            last is None
            or last[0].id != entry.id
            or last[1].camera_id != event.camera_id
            or last[1].track_id != event.track_id
            or event.captured_at - last[1].captured_at > window
        ):
            passes.append(
                {
                    "entry": str(entry.id),
                    "list": str(entry.watchlist_id),
                    "priority": entry.priority,
                    "camera": event.camera_id,
                    "site": event.site,
                    "track": event.track_id,
                    "plate": event.plate_text,
                    "normalized": event.plate_normalized,
                    "events": [],
                    "ats": [],
                }
            )
        passes[-1]["events"].append(event.event_id)
        passes[-1]["ats"].append(event.captured_at.isoformat())
        last = entry, event
    return passes
