"""Tags and notes on plates (docs/decisions.md#corrections). Each is made through a read and
keeps its camera and site: a key sees and removes only those of the cameras and sites it may
see, as with reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, LiteralString

from psycopg import AsyncConnection
from psycopg.rows import class_row

from alpr_core.api.queries import scope_clause
from alpr_core.api.schemas import Note, Tag
from alpr_core.db.api_keys import ApiKey


@dataclass(frozen=True, slots=True)
class PlacedRead:
    """Where a read was made, which its annotations keep: its plate, camera and site."""

    plate_normalized: str
    camera_id: str
    site: str | None


def _visible(key: ApiKey, plate: str) -> tuple[LiteralString, dict[str, Any]]:
    params: dict[str, Any] = {"plate": plate}
    clauses = ["plate_normalized = %(plate)s", *scope_clause(key, params)]
    return " AND ".join(clauses), params


async def tags_of(conn: AsyncConnection[Any], key: ApiKey, plate: str) -> list[Tag]:
    """The plate's tags the key may see: each tag once, as first given."""
    where, params = _visible(key, plate)
    cursor = conn.cursor(row_factory=class_row(Tag))
    await cursor.execute(
        f"SELECT DISTINCT ON (tag) tag, key_name, tagged_at FROM plate_tags WHERE {where}"
        " ORDER BY tag, tagged_at",
        params,
    )
    return await cursor.fetchall()


async def notes_of(conn: AsyncConnection[Any], key: ApiKey, plate: str) -> list[Note]:
    """The plate's notes the key may see, oldest first."""
    where, params = _visible(key, plate)
    cursor = conn.cursor(row_factory=class_row(Note))
    await cursor.execute(
        f"SELECT id, body, key_name, written_at FROM plate_notes WHERE {where}"
        " ORDER BY written_at, id",
        params,
    )
    return await cursor.fetchall()


async def add_tag(conn: AsyncConnection[Any], key: ApiKey, read: PlacedRead, tag: str) -> bool:
    """Tag the read's plate at its camera; whether the tag is new there."""
    cursor = await conn.execute(
        "INSERT INTO plate_tags (plate_normalized, tag, camera_id, site, key_id, key_name)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (read.plate_normalized, tag, read.camera_id, read.site, key.id, key.name),
    )
    return cursor.rowcount == 1


async def remove_tag(conn: AsyncConnection[Any], key: ApiKey, plate: str, tag: str) -> int:
    """Remove the tag from the plate wherever the key may see it; how many were removed."""
    where, params = _visible(key, plate)
    cursor = await conn.execute(
        f"DELETE FROM plate_tags WHERE {where} AND tag = %(tag)s", params | {"tag": tag}
    )
    return cursor.rowcount


async def add_note(conn: AsyncConnection[Any], key: ApiKey, read: PlacedRead, body: str) -> None:
    await conn.execute(
        "INSERT INTO plate_notes (plate_normalized, body, camera_id, site, key_id, key_name)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (read.plate_normalized, body, read.camera_id, read.site, key.id, key.name),
    )
