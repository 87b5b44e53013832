"""Retention: delete whole expired partitions (or chunks) and the images stored for their rows.

Images go first, then the partition: if the run stops between the two, the next run finds the
same partition and finishes it, so no image outlives its row. Then the fuzzy-search dictionary
forgets the dropped days, and the plates with no day left. Only one run at a time does work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from alpr_core.images.store import ImageStore

_LOCK_KEY = 0x41_4C_50_53  # "ALPS"
_PRECREATE_DAYS = 7


@dataclass(frozen=True, slots=True)
class RetentionResult:
    partitions_dropped: int
    images_deleted: int
    ran: bool = True
    plate_texts_deleted: int = 0


def apply_retention(
    conn: psycopg.Connection[Any], images: ImageStore, keep: timedelta, now: datetime
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
        deleted = sum(_drop_partition(conn, images, schema, table) for schema, table in expired)
        forgotten = _forget_plate_texts(conn, now - keep)
        return RetentionResult(len(expired), deleted, plate_texts_deleted=forgotten)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


def _drop_partition(
    conn: psycopg.Connection[Any], images: ImageStore, schema: str, table: str
) -> int:
    name = sql.Identifier(schema, table)
    keys = [
        row[0]
        for row in conn.execute(
            sql.SQL("SELECT image_object_key FROM {} WHERE image_object_key IS NOT NULL").format(
                name
            )
        )
    ]
    deleted = images.delete_many(keys)
    conn.execute(sql.SQL("DROP TABLE {}").format(name))
    return deleted


def _forget_plate_texts(conn: psycopg.Connection[Any], cutoff: datetime) -> int:
    """Delete the plate days before the first day kept, and the plates last read before it.
    Partitions are whole UTC days, so a day before ``cutoff``'s is a dropped one. One pass over
    each narrow table (their days are not indexed on their own, which keeps the indexer's
    daily updates of ``last_seen`` HOT)."""
    day = cutoff.astimezone(UTC).date()
    conn.execute("DELETE FROM plate_texts_pending WHERE day < %s", (day,))
    conn.execute("DELETE FROM plate_days WHERE day < %s", (day,))
    return conn.execute("DELETE FROM plate_texts WHERE last_seen < %s", (day,)).rowcount
