"""Reading the audit log: newest first, in keyset pages, limited to what the reader may see.

An admin limited to sites or cameras sees only the rows of keys inside its scope: keys limited
to some of its sites (and, when it is limited to cameras, to some of its cameras). Rows of keys
without such limits, and of requests that had no valid key, are for unlimited admins alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from alpr_core.db.api_keys import ApiKey

_COLUMNS: LiteralString = (
    "id, at, key_id, key_name, method, path, params, status, result_count, client_addr, purpose"
)
_KEYS_IN_SCOPE: LiteralString = (
    "key_id IN (SELECT id FROM api_keys WHERE"
    " (%(reader_sites)s::text[] IS NULL OR (sites IS NOT NULL AND sites <@ %(reader_sites)s))"
    " AND (%(reader_cameras)s::text[] IS NULL"
    " OR (cameras IS NOT NULL AND cameras <@ %(reader_cameras)s)))"
)


@dataclass(frozen=True, slots=True)
class AuditFilters:
    key_id: UUID | None = None
    since: datetime | None = None
    before: tuple[datetime, int] | None = None  # the cursor: (at, id) of the last row seen


async def read_audit_page(
    conn: AsyncConnection[Any], reader: ApiKey, filters: AuditFilters, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` rows that ``reader`` may see, newest first."""
    clauses, params = _where(reader, filters)
    where: LiteralString = " AND ".join(clauses) if clauses else "TRUE"
    query: LiteralString = (
        f"SELECT {_COLUMNS} FROM audit_log WHERE {where} ORDER BY at DESC, id DESC LIMIT %(limit)s"
    )
    cursor = conn.cursor(row_factory=dict_row)
    return await (await cursor.execute(query, params | {"limit": limit})).fetchall()


def _where(reader: ApiKey, filters: AuditFilters) -> tuple[list[LiteralString], dict[str, Any]]:
    clauses: list[LiteralString] = []
    params: dict[str, Any] = {}
    if reader.sites or reader.cameras:
        clauses.append(_KEYS_IN_SCOPE)
        params.update(reader_sites=reader.sites or None, reader_cameras=reader.cameras or None)
    if filters.key_id is not None:
        clauses.append("key_id = %(key_id)s")
        params["key_id"] = filters.key_id
    if filters.since is not None:
        clauses.append("at >= %(since)s")
        params["since"] = filters.since
    if filters.before is not None:
        clauses.append("(at, id) < (%(cursor_at)s, %(cursor_id)s)")
        params.update(cursor_at=filters.before[0], cursor_id=filters.before[1])
    return clauses, params
