"""Watchlists and their entries (migration 0018, docs/decisions.md#watchlists): the SQL, and the
scope rule every statement applies.

A list belongs to sites (``sites``; NULL: every site). A key limited to sites sees, changes and
creates only lists whose sites are all among its own; a key limited to cameras sees none, since
a list is not a camera's. A list another key may not see is, to it, not there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal, LiteralString
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from alpr_core.db.api_keys import ApiKey

Priority = Literal["info", "warning", "critical"]
EntryMode = Literal["exact", "fuzzy", "wildcard"]

LIST_COLUMNS: LiteralString = (
    "id, name, priority, owner, sites, retention_days, created_at, updated_at"
)
ENTRY_FIELDS: LiteralString = (
    "plate, plate_normalized, match_mode, max_distance, reason, reference, valid_from,"
    " valid_until, cameras, sites, directions, hours_of_week"
)
ENTRY_COLUMNS: LiteralString = f"id, watchlist_id, {ENTRY_FIELDS}, created_at, updated_at"
# ENTRY_FIELDS' values, named after EntrySpec's fields.
ENTRY_VALUES: LiteralString = (
    "%(plate)s, %(plate_normalized)s, %(match_mode)s, %(max_distance)s, %(reason)s,"
    " %(reference)s, %(valid_from)s, %(valid_until)s, %(cameras)s, %(sites)s, %(directions)s,"
    " %(hours_of_week)s"
)
# The list's columns a change may set.
_LIST_ASSIGNMENTS: dict[str, LiteralString] = {
    "name": "name = %(name)s",
    "priority": "priority = %(priority)s",
    "owner": "owner = %(owner)s",
    "sites": "sites = %(sites)s",
    "retention_days": "retention_days = %(retention_days)s",
}


@dataclass(frozen=True, slots=True)
class Watchlist:
    id: UUID
    name: str
    priority: Priority
    owner: str
    sites: list[str] | None
    retention_days: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class EntrySpec:
    """What a client gives for an entry; ``plate_normalized`` is its matching form."""

    plate: str
    plate_normalized: str
    match_mode: EntryMode
    max_distance: int = 0
    reason: str = ""
    reference: str = ""
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    cameras: list[str] | None = None
    sites: list[str] | None = None
    directions: list[str] | None = None
    hours_of_week: list[int] | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    id: UUID
    watchlist_id: UUID
    plate: str
    plate_normalized: str
    match_mode: EntryMode
    max_distance: int
    reason: str
    reference: str
    valid_from: datetime | None
    valid_until: datetime | None
    cameras: list[str] | None
    sites: list[str] | None
    directions: list[str] | None
    hours_of_week: list[int] | None
    created_at: datetime
    updated_at: datetime


def may_hold(key: ApiKey, sites: list[str] | None) -> bool:
    """Whether ``key`` may see and change a list of ``sites``."""
    if key.cameras is not None:
        return False
    return key.sites is None or (sites is not None and set(sites) <= set(key.sites))


def _visible(key: ApiKey, params: dict[str, Any]) -> LiteralString:
    """The SQL form of ``may_hold`` over the ``watchlists`` row."""
    if key.cameras is not None:
        return "FALSE"
    if key.sites is None:
        return "TRUE"
    params["scope_sites"] = key.sites
    return "(watchlists.sites IS NOT NULL AND watchlists.sites <@ %(scope_sites)s::text[])"


async def list_watchlists(conn: AsyncConnection[Any], key: ApiKey) -> list[Watchlist]:
    params: dict[str, Any] = {}
    cursor = conn.cursor(row_factory=class_row(Watchlist))
    await cursor.execute(
        f"SELECT {LIST_COLUMNS} FROM watchlists WHERE {_visible(key, params)} ORDER BY name, id",
        params,
    )
    return await cursor.fetchall()


async def get_watchlist(
    conn: AsyncConnection[Any], key: ApiKey, watchlist_id: UUID
) -> Watchlist | None:
    params: dict[str, Any] = {"id": watchlist_id}
    cursor = conn.cursor(row_factory=class_row(Watchlist))
    await cursor.execute(
        f"SELECT {LIST_COLUMNS} FROM watchlists WHERE id = %(id)s AND {_visible(key, params)}",
        params,
    )
    return await cursor.fetchone()


async def create_watchlist(
    conn: AsyncConnection[Any], key: ApiKey, values: dict[str, Any]
) -> Watchlist:
    cursor = conn.cursor(row_factory=class_row(Watchlist))
    await cursor.execute(
        "INSERT INTO watchlists (name, priority, owner, sites, retention_days, created_by)"
        " VALUES (%(name)s, %(priority)s, %(owner)s, %(sites)s, %(retention_days)s, %(key)s)"
        f" RETURNING {LIST_COLUMNS}",
        values | {"key": key.id},
    )
    created = await cursor.fetchone()
    assert created is not None  # an INSERT ... RETURNING returns its row
    return created


async def update_watchlist(
    conn: AsyncConnection[Any], key: ApiKey, watchlist_id: UUID, changes: dict[str, Any]
) -> Watchlist | None:
    """Apply ``changes`` (column: value; the columns of ``_LIST_ASSIGNMENTS``) to a visible
    list."""
    params: dict[str, Any] = {"id": watchlist_id}
    sets: list[LiteralString] = ["updated_at = now()"]
    for column, assignment in _LIST_ASSIGNMENTS.items():
        if column in changes:
            sets.append(assignment)
            params[column] = changes[column]
    cursor = conn.cursor(row_factory=class_row(Watchlist))
    await cursor.execute(
        f"UPDATE watchlists SET {', '.join(sets)}"
        f" WHERE id = %(id)s AND {_visible(key, params)} RETURNING {LIST_COLUMNS}",
        params,
    )
    return await cursor.fetchone()


async def delete_watchlist(conn: AsyncConnection[Any], key: ApiKey, watchlist_id: UUID) -> bool:
    params: dict[str, Any] = {"id": watchlist_id}
    cursor = await conn.execute(
        f"DELETE FROM watchlists WHERE id = %(id)s AND {_visible(key, params)}", params
    )
    return cursor.rowcount == 1


async def list_entries(
    conn: AsyncConnection[Any], watchlist_id: UUID, after: UUID | None, limit: int
) -> list[Entry]:
    """Entries of a list the caller may see, by id, after ``after``: ``limit + 1`` at most."""
    cursor = conn.cursor(row_factory=class_row(Entry))
    await cursor.execute(
        f"SELECT {ENTRY_COLUMNS} FROM watchlist_entries WHERE watchlist_id = %(list)s"
        " AND (%(after)s::uuid IS NULL OR id > %(after)s) ORDER BY id LIMIT %(limit)s",
        {"list": watchlist_id, "after": after, "limit": limit + 1},
    )
    return await cursor.fetchall()


async def create_entry(
    conn: AsyncConnection[Any], watchlist_id: UUID, spec: EntrySpec
) -> Entry | None:
    """The new entry, or None when the list already has its (plate, reference)."""
    cursor = conn.cursor(row_factory=class_row(Entry))
    await cursor.execute(
        f"INSERT INTO watchlist_entries (watchlist_id, {ENTRY_FIELDS})"
        f" VALUES (%(list)s, {ENTRY_VALUES})"
        " ON CONFLICT (watchlist_id, plate_normalized, reference) DO NOTHING"
        f" RETURNING {ENTRY_COLUMNS}",
        asdict(spec) | {"list": watchlist_id},
    )
    return await cursor.fetchone()


async def replace_entry(
    conn: AsyncConnection[Any], watchlist_id: UUID, entry_id: UUID, spec: EntrySpec
) -> Entry | None:
    """The entry with every field of ``spec``, or None when the list has no such entry."""
    cursor = conn.cursor(row_factory=class_row(Entry))
    await cursor.execute(
        f"UPDATE watchlist_entries SET ({ENTRY_FIELDS}, updated_at) = ({ENTRY_VALUES}, now())"
        f" WHERE id = %(id)s AND watchlist_id = %(list)s RETURNING {ENTRY_COLUMNS}",
        asdict(spec) | {"id": entry_id, "list": watchlist_id},
    )
    return await cursor.fetchone()


async def delete_entry(conn: AsyncConnection[Any], watchlist_id: UUID, entry_id: UUID) -> bool:
    cursor = await conn.execute(
        "DELETE FROM watchlist_entries WHERE id = %s AND watchlist_id = %s",
        (entry_id, watchlist_id),
    )
    return cursor.rowcount == 1


@dataclass(frozen=True, slots=True)
class ImportCounts:
    created: int
    updated: int
    unchanged: int
    deleted: int


# The entries of an import as one parameter: a JSON array of EntrySpec objects.
_IMPORTED: LiteralString = (
    "jsonb_to_recordset(%(rows)s::jsonb) AS r(plate text, plate_normalized text, match_mode text,"
    " max_distance integer, reason text, reference text, valid_from timestamptz,"
    " valid_until timestamptz, cameras text[], sites text[], directions text[],"
    " hours_of_week smallint[])"
)
_EXCLUDED: LiteralString = ", ".join(f"EXCLUDED.{name.strip()}" for name in ENTRY_FIELDS.split(","))
_CURRENT: LiteralString = ", ".join(f"e.{name.strip()}" for name in ENTRY_FIELDS.split(","))


async def import_entries(
    conn: AsyncConnection[Any],
    watchlist_id: UUID,
    specs: list[EntrySpec],
    *,
    replace: bool,
    batch: int = 1000,
) -> ImportCounts:
    """Add or update each entry by (plate, reference); an entry already equal is left as it is,
    so importing a file twice changes nothing. With ``replace``, the list's entries the file does
    not hold are deleted. Run it in a transaction: all of it lands, or none."""
    created = updated = deleted = 0
    for start in range(0, len(specs), batch):
        rows = [_json_ready(asdict(spec)) for spec in specs[start : start + batch]]
        cursor = await conn.execute(
            f"INSERT INTO watchlist_entries AS e (watchlist_id, {ENTRY_FIELDS})"
            f" SELECT %(list)s, {ENTRY_FIELDS} FROM {_IMPORTED}"
            " ON CONFLICT (watchlist_id, plate_normalized, reference) DO UPDATE"
            f" SET ({ENTRY_FIELDS}, updated_at) = ({_EXCLUDED}, now())"
            f" WHERE ({_CURRENT}) IS DISTINCT FROM ({_EXCLUDED})"
            " RETURNING xmax = 0",
            {"list": watchlist_id, "rows": Jsonb(rows)},
        )
        for (was_created,) in await cursor.fetchall():
            created += was_created
            updated += not was_created
    if replace:
        cursor = await conn.execute(
            "DELETE FROM watchlist_entries WHERE watchlist_id = %(list)s"
            " AND (plate_normalized, reference) NOT IN"
            " (SELECT * FROM unnest(%(plates)s::text[], %(references)s::text[]))",
            {
                "list": watchlist_id,
                "plates": [spec.plate_normalized for spec in specs],
                "references": [spec.reference for spec in specs],
            },
        )
        deleted = cursor.rowcount
    return ImportCounts(created, updated, len(specs) - created - updated, deleted)


def _json_ready(values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in values.items()
    }


async def count_entries(conn: AsyncConnection[Any], watchlist_id: UUID) -> int:
    cursor = await conn.execute(
        "SELECT count(*) FROM watchlist_entries WHERE watchlist_id = %s", (watchlist_id,)
    )
    row = await cursor.fetchone()
    assert row is not None  # count(*) returns a row
    return int(row[0])


async def entries_of(conn: AsyncConnection[Any], watchlist_id: UUID) -> AsyncIterator[Entry]:
    """Every entry of a list, by plate and reference, streamed from a server-side cursor."""
    cursor = conn.cursor("watchlist_export", row_factory=class_row(Entry))
    async with cursor:
        await cursor.execute(
            f"SELECT {ENTRY_COLUMNS} FROM watchlist_entries WHERE watchlist_id = %s"
            " ORDER BY plate_normalized, reference",
            (watchlist_id,),
        )
        async for entry in cursor:
            yield entry
