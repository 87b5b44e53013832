"""Retention: delete whole expired partitions (or chunks) and the images stored for their rows.

Images go first, then the partition: if the run stops between the two, the next run finds the
same partition and finishes it, so no image outlives its row. Then the fuzzy-search dictionary
forgets the dropped days, and the plates with no day left, the passes whose reads are all gone
go, and alerts past their list's
retention or past the reads' (whichever is sooner) go with their reads, outbox rows and
deliveries, and so do the hourly read counts of the dropped days, the corrections of the dropped
reads, and the tags and notes of plates with no read left. Only one run at a time does work.

Dropping a partition needs an exclusive lock, which queues every later reader and writer of
the table behind it: the drop waits at most ``lock_timeout_ms`` for it, and a partition it
could not lock is left for the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import structlog
from psycopg import sql
from psycopg.errors import LockNotAvailable

from alpr_core.images.store import ImageStore

log = structlog.get_logger("alpr.retention")

_LOCK_KEY = 0x41_4C_50_53  # "ALPS"
_PRECREATE_DAYS = 7
LOCK_TIMEOUT_MS = 2000  # the longest a drop may queue ingest and queries behind it


@dataclass(frozen=True, slots=True)
class RetentionResult:
    partitions_dropped: int
    images_deleted: int
    ran: bool = True
    plate_texts_deleted: int = 0
    partitions_locked: int = 0  # expired, but busy past the lock timeout: left for the next run
    alerts_deleted: int = 0
    passes_deleted: int = 0
    rollup_hours_deleted: int = 0  # rows of read_rollups, pass_rollups and plate_sketches
    annotations_deleted: int = 0  # corrections, tags and notes


def apply_retention(
    conn: psycopg.Connection[Any],
    images: ImageStore,
    keep: timedelta,
    now: datetime,
    lock_timeout_ms: int = LOCK_TIMEOUT_MS,
) -> RetentionResult:
    """Drop what is older than ``now - keep``; also make sure the next days' partitions exist.

    ``conn`` must be in autocommit mode: each partition is dropped in its own transaction.
    """
    locked = conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,)).fetchone()
    if not (locked and locked[0]):
        return RetentionResult(0, 0, ran=False)
    try:
        today = now.astimezone(UTC).date()
        conn.execute(
            "SELECT alpr_ensure_partitions(%s, %s)",
            (today, today + timedelta(days=_PRECREATE_DAYS)),
        )
        expired = conn.execute(
            "SELECT schema_name, table_name FROM alpr_expired_partitions(%s)", (now - keep,)
        ).fetchall()
        outcomes = [
            _drop_partition(conn, images, (now - keep, schema, table), lock_timeout_ms)
            for schema, table in expired
        ]
        forgotten = _forget_plate_texts(conn, now - keep)
        dropped = sum(1 for done, _ in outcomes if done)
        deleted = sum(count for _, count in outcomes)
        return RetentionResult(
            dropped,
            deleted,
            plate_texts_deleted=forgotten,
            partitions_locked=len(expired) - dropped,
            alerts_deleted=_expire_alerts(conn, now, now - keep),
            passes_deleted=_expire_passes(conn, now - keep),
            rollup_hours_deleted=_expire_rollups(conn, now - keep),
            annotations_deleted=_expire_annotations(conn, now - keep),
        )
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


def _drop_partition(
    conn: psycopg.Connection[Any],
    images: ImageStore,
    expired: tuple[datetime, str, str],
    lock_timeout_ms: int,
) -> tuple[bool, int]:
    """Delete the images of an expired partition's rows (``expired``: the cutoff, the
    partition's schema and name), then drop it; whether it was dropped, and how many images were
    deleted. Images already gone count as deleted, so a retry is harmless. Both steps run as the
    tables' owner, through functions that refuse anything but an expired partition
    (docs/decisions.md#database-roles)."""
    keys_query = "SELECT * FROM alpr_expired_partition_image_keys(%s, %s, %s)"
    keys = [row[0] for row in conn.execute(keys_query, expired)]
    deleted = images.delete_many(keys)
    try:
        with conn.transaction():
            timeout = sql.Literal(f"{lock_timeout_ms}ms")
            conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(timeout))
            conn.execute("SELECT alpr_drop_expired_partition(%s, %s, %s)", expired)
    except LockNotAvailable:
        log.warning("expired partition busy; left for the next run", partition=expired[2])
        return False, deleted
    return True, deleted


def _forget_plate_texts(conn: psycopg.Connection[Any], cutoff: datetime) -> int:
    """Delete the plate days before the first day kept, and the plates last read before it.
    Partitions are whole UTC days, so a day before ``cutoff``'s is a dropped one. One pass over
    each narrow table (their days are not indexed on their own, which keeps the indexer's
    daily updates of ``last_seen`` HOT)."""
    day = cutoff.astimezone(UTC).date()
    conn.execute("DELETE FROM plate_texts_pending WHERE day < %s", (day,))
    conn.execute("DELETE FROM plate_days WHERE day < %s", (day,))
    return conn.execute("DELETE FROM plate_texts WHERE last_seen < %s", (day,)).rowcount


def _expire_alerts(conn: psycopg.Connection[Any], now: datetime, cutoff: datetime) -> int:
    """Delete the alerts whose last read is past their list's ``retention_days``, or before
    ``cutoff`` (the reads' retention): an alert never outlives the reads it names."""
    return conn.execute(
        "DELETE FROM alerts a USING watchlists w WHERE w.id = a.watchlist_id"
        " AND a.last_seen < greatest(%s - make_interval(days => w.retention_days), %s)",
        (now, cutoff),
    ).rowcount


def _expire_passes(conn: psycopg.Connection[Any], cutoff: datetime) -> int:
    """Delete the passes whose last read was in a dropped day (before ``cutoff``'s)."""
    day = _first_kept_midnight(cutoff)
    return conn.execute("DELETE FROM passes WHERE last_seen < %s", (day,)).rowcount


def _expire_rollups(conn: psycopg.Connection[Any], cutoff: datetime) -> int:
    """Delete the read counts of the dropped days (before ``cutoff``'s), as their owner
    (migration 0026), and the pass counts and plate sketches of those days (0028, 0029)."""
    day = _first_kept_midnight(cutoff)
    row = conn.execute("SELECT alpr_expire_read_rollups(%s)", (day,)).fetchone()
    passes = conn.execute("DELETE FROM pass_rollups WHERE hour < %s", (day,)).rowcount
    sketches = conn.execute("DELETE FROM plate_sketches WHERE day < %s", (day.date(),)).rowcount
    return (int(row[0]) if row else 0) + passes + sketches


def _expire_annotations(conn: psycopg.Connection[Any], cutoff: datetime) -> int:
    """Delete the corrections of the dropped reads (before ``cutoff``'s day), and the tags and
    notes of the plates that have no read left (none in the fuzzy-search dictionary, which
    forgets a plate with its last day, nor waiting to enter it)."""
    day = _first_kept_midnight(cutoff)
    deleted = conn.execute('DELETE FROM plate_corrections WHERE "timestamp" < %s', (day,)).rowcount
    for table in ("plate_tags", "plate_notes"):
        deleted += conn.execute(
            sql.SQL(
                "DELETE FROM {} a WHERE NOT EXISTS (SELECT 1 FROM plate_texts t"
                " WHERE t.plate_normalized = a.plate_normalized) AND NOT EXISTS (SELECT 1"
                " FROM plate_texts_pending p WHERE p.plate_normalized = a.plate_normalized)"
            ).format(sql.Identifier(table))
        ).rowcount
    return deleted


def _first_kept_midnight(cutoff: datetime) -> datetime:
    """Midnight UTC of ``cutoff``'s day: partitions are whole days, so what is before it was in
    a dropped one."""
    return datetime.combine(cutoff.astimezone(UTC).date(), datetime.min.time(), UTC)
