"""Corrections of misread plates (docs/decisions.md#corrections): a read takes the corrected
text, the text it had is kept in ``plate_corrections``, and its pass takes the corrected text
as its consensus, since a person's reading outweighs every OCR vote."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, LiteralString

from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from alpr_core.api.queries import scope_clause
from alpr_core.api.schemas import Correction
from alpr_core.db.api_keys import ApiKey
from alpr_core.db.passes import LOCK_CAMERAS, camera_locks
from alpr_core.passes.grouping import consensus, written_text

# A person's correction as a vote in its pass: more than the summed confidence of any number of
# reads a pass can hold, so the consensus is the corrected text whatever the OCR said.
CORRECTION_VOTE = 1_000_000.0


@dataclass(frozen=True, slots=True)
class CorrectedRead:
    """What a correction changed: the read's text before, and after."""

    before: str
    after: str


_CORRECTIONS: LiteralString = (
    "SELECT plate_text, corrected_text, reason, key_name, corrected_at FROM plate_corrections"
    ' WHERE read_id = %s AND "timestamp" = %s ORDER BY id'
)


async def corrections_of(
    conn: AsyncConnection[Any], read_id: int, at: datetime
) -> list[Correction]:
    """The corrections of one read, oldest first."""
    cursor = conn.cursor(row_factory=class_row(Correction))
    await cursor.execute(_CORRECTIONS, (read_id, at))
    return await cursor.fetchall()


async def correct_read(
    conn: AsyncConnection[Any],
    key: ApiKey,
    read_id: int,
    text: tuple[str, str],
    reason: str | None,
) -> CorrectedRead | None:
    """Give read ``read_id``, if ``key`` may see it, the text ``text`` (as written, normalized),
    in one transaction with its pass; None when the key may not see it. The pass is changed
    under its camera's lock, which the writers take before they join reads to passes."""
    corrected_text, corrected = text
    params: dict[str, Any] = {"id": read_id}
    where: LiteralString = " AND ".join(["id = %(id)s", *scope_clause(key, params)])
    async with conn.transaction():
        cursor = await conn.execute(
            'SELECT "timestamp", camera_id, site, track_id, event_id, plate_text,'
            f" plate_normalized FROM plate_detections WHERE {where} FOR UPDATE",
            params,
        )
        row = await cursor.fetchone()
        if row is None:
            return None
        at, camera_id, site, track_id, event_id, before_text, before = row
        if before == corrected:
            return CorrectedRead(before, corrected)  # nothing to change
        await conn.execute(LOCK_CAMERAS, camera_locks([camera_id]))
        await conn.execute(
            'INSERT INTO plate_corrections (read_id, "timestamp", camera_id, site, plate_text,'
            " plate_normalized, corrected_text, corrected_normalized, reason, key_id, key_name)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                *(read_id, at, camera_id, site, before_text, before),
                *(corrected_text, corrected, reason, key.id, key.name),
            ),
        )
        await conn.execute(
            "UPDATE plate_detections SET plate_text = %s, plate_normalized = %s"
            ' WHERE id = %s AND "timestamp" = %s',
            (corrected_text, corrected, read_id, at),
        )
        # Into the fuzzy-search dictionary, as a stored read's plate enters it (migration 0006).
        await conn.execute(
            "INSERT INTO plate_texts_pending (plate_normalized, day) VALUES (%s, %s)",
            (corrected, at.astimezone(UTC).date()),
        )
        await _vote_in_pass(conn, (camera_id, at, track_id, str(event_id)), text)
    return CorrectedRead(before, corrected)


async def _vote_in_pass(
    conn: AsyncConnection[Any], read: tuple[str, datetime, str, str], text: tuple[str, str]
) -> None:
    """Add the correction's vote to the pass of ``read`` (camera, time, track, event id): the
    pass at its camera whose span holds it, the one that knows its track first."""
    camera_id, at, track_id, event_id = read
    corrected_text, corrected = text
    cursor = await conn.execute(
        "SELECT id, votes, best_event_id::text, best_plate_text, best_plate_normalized"
        " FROM passes WHERE camera_id = %s AND first_seen <= %s AND last_seen >= %s"
        " ORDER BY keys ? ('t:' || %s) DESC, id LIMIT 1",
        (camera_id, at, at, track_id),
    )
    row = await cursor.fetchone()
    if row is None:
        return  # no pass: a read stored before passes were kept, and never rebuilt
    pass_id, votes, best_event_id, best_text, best_plate = row
    votes[corrected] = float(votes.get(corrected, 0.0)) + CORRECTION_VOTE
    winner = consensus(votes)
    if best_event_id == event_id:
        best_text, best_plate = corrected_text, corrected
    await conn.execute(
        "UPDATE passes SET votes = %s, plate_normalized = %s, plate_text = %s,"
        " best_plate_text = %s, best_plate_normalized = %s WHERE id = %s",
        (
            Jsonb(votes),
            winner,
            written_text(best_text, best_plate, winner),
            best_text,
            best_plate,
            pass_id,
        ),
    )
