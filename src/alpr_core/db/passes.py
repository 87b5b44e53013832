"""Passes kept as reads are stored (docs/decisions.md#passes): in the transaction that stores a
batch, its new reads join the stored passes near them (``passes/grouping.py``), so a pass is
exactly as durable as its reads and a replay, whose reads are not new, changes nothing.

Two writers (two consumers after a rebalance, or Kafka and HTTP ingest) may store reads of one
camera at once: each takes a transaction lock per camera, in camera order, before it looks.

``rebuild_passes`` makes the passes again from every stored read, in time order: once after an
upgrade that brings passes to a database that holds reads, with the storage service stopped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any, LiteralString

import psycopg
from psycopg.types.json import Jsonb
from pydantic_core import to_json

from alpr_core.events.model import PlateEvent, direction_of
from alpr_core.passes.grouping import Pass, PassRead, count_changes, join_reads, windows

_LOCK_PREFIX = "alpr.passes:"
# Each camera's transaction lock, taken in camera order by whoever changes the camera's passes.
LOCK_CAMERAS: LiteralString = (
    "SELECT pg_advisory_xact_lock(hashtextextended(%s || c, 0)) FROM unnest(%s::text[]) c"
)
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
    ("keys", "jsonb"),
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
# As COPY renders each column (the event id as its canonical text, which PostgreSQL parses).
_NAMES = [name for name, _ in _TYPED_COLUMNS]
_JSONB = {i for i, (_, kind) in enumerate(_TYPED_COLUMNS[1:]) if kind == "jsonb"}
_COPY_TYPES = [kind if kind != "uuid" else "text" for _, kind in _TYPED_COLUMNS[1:]]
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


# Passes per hour, camera and site (migration 0028), changed by what a batch changed; rows in
# key order, so that two writers lock them in the same order.
_COUNT_PASSES: LiteralString = (
    "INSERT INTO pass_rollups AS r (hour, camera_id, site, passes)"
    " SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[], %s::bigint[])"
    " ON CONFLICT (hour, camera_id, (coalesce(site, ''))) DO UPDATE"
    " SET passes = r.passes + excluded.passes"
)


def in_key_order(
    keys: Iterable[tuple[Any, str, str | None]],
) -> tuple[list[tuple[Any, str, str | None]], list[list[Any]]]:
    """Rows keyed by (hour or day, camera, site), sorted as their unique indexes order them (a
    missing site as ''), so that two writers lock the rows in the same order; and the keys as
    three columns, for ``unnest``."""
    ordered = sorted(keys, key=lambda k: (k[0], k[1], k[2] or ""))
    return ordered, [list(column) for column in zip(*ordered, strict=True)]


def camera_locks(cameras: list[str]) -> tuple[str, list[str]]:
    """The parameters of ``LOCK_CAMERAS`` for ``cameras``, in the order they must be taken."""
    return _LOCK_PREFIX, sorted(cameras)


def update_passes(
    conn: psycopg.Connection[Any],
    reads: Sequence[PassRead],
    gap: timedelta,
    *,
    use_copy: bool = True,
) -> None:
    """Add ``reads``, newly stored in ``conn``'s open transaction, to their passes. New passes
    are written by ``COPY`` (the cheapest insert), or an ``INSERT`` where COPY is missing."""
    if not reads:
        return
    spans = windows(reads, gap)
    cameras = sorted({camera for camera, _, _ in spans})
    conn.execute(LOCK_CAMERAS, camera_locks(cameras))
    near = conn.execute(_NEAR, [list(column) for column in zip(*spans, strict=True)])
    stored = [_stored(row) for row in near]
    changes = join_reads(stored, reads, gap)
    if changes.merged_away:
        conn.execute("DELETE FROM passes WHERE id = ANY(%s)", (changes.merged_away,))
    updated = [_record(p) for p in changes.written if p.id is not None]
    if updated:
        conn.execute(_UPDATE, (Jsonb(updated, dumps=to_json),))
    created = [p for p in changes.written if p.id is None]
    if created and use_copy:
        _copy(conn, created)
    elif created:
        conn.execute(_INSERT, (Jsonb([_record(p) for p in created], dumps=to_json),))
    counts = count_changes(stored, changes)
    if counts:
        keys, columns = in_key_order(counts)
        conn.execute(_COUNT_PASSES, [*columns, [counts[k] for k in keys]])


def _copy(conn: psycopg.Connection[Any], created: list[Pass]) -> None:
    with conn.cursor().copy(f"COPY passes ({_WRITTEN}) FROM STDIN") as copy:
        copy.set_types(_COPY_TYPES)
        for p in created:
            values = _values(p)[1:]  # the id is the table's to give
            copy.write_row(
                [Jsonb(v, dumps=to_json) if i in _JSONB else v for i, v in enumerate(values)]
            )


_REBUILD_LOCK = 0x41_4C_50_50  # "ALPP"
_STORED_READS: LiteralString = (
    'SELECT event_id::text, "timestamp", camera_id, site, track_id, plate_text, plate_normalized,'
    " confidence, extras->'direction', region, vehicle_type, vehicle_make, vehicle_model,"
    ' vehicle_color FROM plate_detections ORDER BY "timestamp", id'
)


def rebuild_passes(conninfo: str, gap: timedelta, batch: int = 5_000) -> tuple[int, int]:
    """Delete every pass and make them again from the stored reads, ``batch`` reads a
    transaction; (reads, passes). One rebuild at a time: a second one waits."""
    with (
        psycopg.connect(conninfo, autocommit=True) as writer,
        psycopg.connect(conninfo) as reader,
    ):
        writer.execute("SELECT pg_advisory_lock(%s)", (_REBUILD_LOCK,))
        writer.execute("DELETE FROM passes")
        writer.execute("DELETE FROM pass_rollups")
        reads = 0
        with reader.cursor(name="alpr_passes_rebuild") as cursor:
            cursor.itersize = batch
            cursor.execute(_STORED_READS)
            while rows := cursor.fetchmany(batch):
                with writer.transaction():
                    update_passes(writer, [_read(row) for row in rows], gap)
                reads += len(rows)
        row = writer.execute("SELECT count(*) FROM passes").fetchone()
        writer.execute("SELECT pg_advisory_unlock(%s)", (_REBUILD_LOCK,))
    return reads, int(row[0]) if row else 0


def _read(row: tuple[Any, ...]) -> PassRead:
    """A row of ``_STORED_READS``: PassRead's fields in order, the direction still raw JSON."""
    event, at, camera, site, track, text, normalized, confidence, direction, *vehicle = row
    region, vehicle_type, make, model, color = vehicle
    return PassRead(
        event,
        at,
        camera,
        site,
        track,
        text,
        normalized,
        confidence,
        direction_of(direction),
        region,
        vehicle_type,
        make,
        model,
        color,
    )


def _stored(row: tuple[Any, ...]) -> Pass:
    (
        pass_id,
        camera,
        site,
        first_seen,
        last_seen,
        read_count,
        text,
        normalized,
        votes,
        keys,
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
    return Pass(
        pass_id,
        camera,
        site,
        first_seen,
        last_seen,
        read_count,
        {key: (first, last) for key, (first, last) in keys.items()},
        votes,
        best,
        direction,
        normalized,
        text,
    )


def _values(p: Pass) -> tuple[Any, ...]:
    """The pass's row, in the order of ``_TYPED_COLUMNS``."""
    best = p.best
    return (
        p.id,
        p.camera_id,
        p.site,
        p.first_seen,
        p.last_seen,
        p.read_count,
        p.plate_text,
        p.plate_normalized,
        p.votes,
        p.keys,
        best.event_id,
        best.at,
        best.confidence,
        best.plate_text,
        best.plate_normalized,
        best.track_id,
        p.direction,
        best.region,
        best.vehicle_type,
        best.vehicle_make,
        best.vehicle_model,
        best.vehicle_color,
    )


def _record(p: Pass) -> dict[str, Any]:
    """The pass's row by column name, as ``jsonb_to_recordset`` reads it."""
    return dict(zip(_NAMES, _values(p), strict=True))
