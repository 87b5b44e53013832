"""Passes kept as reads are stored (docs/decisions.md#passes): in the transaction that stores a
batch, its new reads join the stored passes near them (``passes/grouping.py``), so a pass is
exactly as durable as its reads and a replay, whose reads are not new, changes nothing.

Two writers (two consumers after a rebalance, or Kafka and HTTP ingest) may store reads of one
camera at once: each takes a transaction lock per camera, in camera order, before it looks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, LiteralString

import psycopg
from psycopg.types.json import Jsonb
from pydantic_core import to_json

from alpr_core.events.model import PlateEvent
from alpr_core.passes.grouping import Pass, PassRead, join_reads, windows

_LOCK_PREFIX = "alpr.passes:"
# A stored pass's row, the columns written and read in this order.
_TYPED_COLUMNS: tuple[tuple[LiteralString, LiteralString], ...] = (
    ("id", "bigint"),
    ("camera_id", "text"),
    ("site", "text"),
    ("first_seen", "timestamptz"),
    ("last_seen", "timestamptz"),
    ("read_count", "integer"),
    ("plate_text", "text"),
    ("plate_normalized", "text"),
    ("votes", "jsonb"),
    ("key_names", "text[]"),
    ("key_firsts", "timestamptz[]"),
    ("key_lasts", "timestamptz[]"),
    ("best_event_id", "uuid"),
    ("best_at", "timestamptz"),
    ("best_confidence", "double precision"),
    ("best_plate_text", "text"),
    ("best_plate_normalized", "text"),
    ("best_track_id", "text"),
    ("direction", "text"),
    ("region", "text"),
    ("vehicle_type", "text"),
    ("vehicle_make", "text"),
    ("vehicle_model", "text"),
    ("vehicle_color", "text"),
)
_WRITTEN: LiteralString = ", ".join(name for name, _ in _TYPED_COLUMNS[1:])
_RECORD: LiteralString = ", ".join(f"{name} {kind}" for name, kind in _TYPED_COLUMNS)
_NEAR = (
    f"SELECT {', '.join('p.' + name for name, _ in _TYPED_COLUMNS)}"
    " FROM unnest(%s::text[], %s::timestamptz[], %s::timestamptz[]) AS w(camera, low, high)"
    " JOIN passes p ON p.camera_id = w.camera AND p.last_seen >= w.low AND p.first_seen <= w.high"
)
_INSERT = (
    f"INSERT INTO passes ({_WRITTEN}) SELECT {_WRITTEN} FROM jsonb_to_recordset(%s) AS r({_RECORD})"
)
_FROM_RECORD: LiteralString = ", ".join(f"r.{name}" for name, _ in _TYPED_COLUMNS[1:])
_UPDATE = (
    f"UPDATE passes p SET ({_WRITTEN}) = (SELECT {_FROM_RECORD})"
    f" FROM jsonb_to_recordset(%s) AS r({_RECORD}) WHERE p.id = r.id"
)


def pass_read(event: PlateEvent) -> PassRead:
    return PassRead(
        event.event_id,
        event.captured_at,
        event.camera_id,
        event.site,
        event.track_id,
        event.plate_text,
        event.plate_normalized,
        event.confidence,
        event.direction,
        event.region,
        event.vehicle.type,
        event.vehicle.make,
        event.vehicle.model,
        event.vehicle.color,
    )


def update_passes(conn: psycopg.Connection[Any], reads: Sequence[PassRead], gap: timedelta) -> None:
    """Add ``reads``, newly stored in ``conn``'s open transaction, to their passes."""
    if not reads:
        return
    spans = windows(reads, gap)
    cameras = sorted({camera for camera, _, _ in spans})
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s || c, 0)) FROM unnest(%s::text[]) c",
        (_LOCK_PREFIX, cameras),
    )
    near = conn.execute(_NEAR, [list(column) for column in zip(*spans, strict=True)])
    changes = join_reads([_stored(row) for row in near], reads, gap)
    if changes.merged_away:
        conn.execute("DELETE FROM passes WHERE id = ANY(%s)", (changes.merged_away,))
    updated = [_record(p) for p in changes.written if p.id is not None]
    if updated:
        conn.execute(_UPDATE, (Jsonb(updated, dumps=to_json),))
    created = [_record(p) for p in changes.written if p.id is None]
    if created:
        conn.execute(_INSERT, (Jsonb(created, dumps=to_json),))


def _stored(row: tuple[Any, ...]) -> Pass:
    (
        pass_id,
        camera,
        site,
        first_seen,
        last_seen,
        read_count,
        _text,
        _normalized,
        votes,
        key_names,
        key_firsts,
        key_lasts,
        best_event,
        best_at,
        best_confidence,
        best_text,
        best_normalized,
        best_track,
        direction,
        region,
        vehicle_type,
        vehicle_make,
        vehicle_model,
        vehicle_color,
    ) = row
    best = PassRead(
        str(best_event),
        best_at,
        camera,
        site,
        best_track,
        best_text,
        best_normalized,
        best_confidence,
        None,
        region,
        vehicle_type,
        vehicle_make,
        vehicle_model,
        vehicle_color,
    )
    keys = {
        name: (first, last)
        for name, first, last in zip(key_names, key_firsts, key_lasts, strict=True)
    }
    return Pass(
        pass_id, camera, site, first_seen, last_seen, read_count, keys, votes, best, direction
    )


def _record(p: Pass) -> dict[str, Any]:
    best = p.best
    return {
        "id": p.id,
        "camera_id": p.camera_id,
        "site": p.site,
        "first_seen": p.first_seen,
        "last_seen": p.last_seen,
        "read_count": p.read_count,
        "plate_text": p.plate_text,
        "plate_normalized": p.plate_normalized,
        "votes": p.votes,
        "key_names": list(p.keys),
        "key_firsts": [first for first, _ in p.keys.values()],
        "key_lasts": [last for _, last in p.keys.values()],
        "best_event_id": best.event_id,
        "best_at": best.at,
        "best_confidence": best.confidence,
        "best_plate_text": best.plate_text,
        "best_plate_normalized": best.plate_normalized,
        "best_track_id": best.track_id,
        "direction": p.direction,
        "region": best.region,
        "vehicle_type": best.vehicle_type,
        "vehicle_make": best.vehicle_make,
        "vehicle_model": best.vehicle_model,
        "vehicle_color": best.vehicle_color,
    }
