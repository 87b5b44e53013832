"""The fuzzy-search dictionary: recording the plates of stored reads, and indexing them.

Writers append each batch's (plate, day) pairs to ``plate_texts_pending`` in the batch's
transaction (``record_plate_texts``); ``index_pending_plates`` moves them into ``plate_texts``,
where each new plate is indexed by its deletion variants, and ``plate_days`` (migrations 0005 and
0006). Fuzzy search reads all three (``alpr_fuzzy_plates``, ``alpr_plate_days``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import psycopg

# Pending rows moved by one drain, in one transaction: the indexer drains chunk after chunk, so
# no transaction holds the dictionary's locks for long.
DRAIN_PLATES = 1000

_DRAIN = """
WITH drained AS (
    DELETE FROM plate_texts_pending
    WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM plate_texts_pending LIMIT %(limit)s FOR UPDATE SKIP LOCKED))
    RETURNING plate_normalized, day
), days AS (
    INSERT INTO plate_days (plate_normalized, day)
    SELECT DISTINCT plate_normalized, day FROM drained ORDER BY plate_normalized, day
    ON CONFLICT DO NOTHING
), upserted AS (
    INSERT INTO plate_texts (plate_normalized, last_seen)
    SELECT plate_normalized, max(day) FROM drained GROUP BY plate_normalized
    ORDER BY plate_normalized
    ON CONFLICT (plate_normalized) DO UPDATE SET last_seen = excluded.last_seen
    WHERE plate_texts.last_seen < excluded.last_seen
)
SELECT count(*) FROM drained
"""


def record_plate_texts(
    conn: psycopg.Connection[Any], reads: Iterable[tuple[str, datetime]]
) -> None:
    """Append each distinct (plate, UTC day) of ``reads`` (plate, captured at)."""
    pairs = {(plate, captured_at.astimezone(UTC).date()) for plate, captured_at in reads}
    conn.execute(
        "INSERT INTO plate_texts_pending (plate_normalized, day)"
        " SELECT * FROM unnest(%s::text[], %s::date[])",
        ([plate for plate, _ in pairs], [day for _, day in pairs]),
    )


def index_pending_plates(conn: psycopg.Connection[Any], limit: int = DRAIN_PLATES) -> int:
    """Move up to ``limit`` pending rows into ``plate_texts``; return how many were moved.
    Several indexers may run at once: each takes rows the others have not locked, and upserts
    in plate order, so two never wait on each other in a cycle."""
    with conn.transaction():
        row = conn.execute(_DRAIN, {"limit": limit}).fetchone()
    return int(row[0]) if row else 0
