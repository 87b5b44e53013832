"""The audit log, for admins: who asked what, when, and how many results they got."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, LiteralString
from uuid import UUID

from fastapi import APIRouter, Query, Request
from psycopg.rows import dict_row

from alpr_core.api.audit import record_query
from alpr_core.api.cursor import Cursor
from alpr_core.api.deps import AdminKey, resources_of
from alpr_core.api.params import as_utc, parse_cursor
from alpr_core.api.problems import problem_responses
from alpr_core.api.schemas import AuditEntry, AuditPage

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get(
    "",
    response_model=AuditPage,
    summary="Read the audit log (admin keys only)",
    responses=problem_responses(401, 403, 422),
)
async def read_audit_log(
    request: Request,
    key: AdminKey,
    key_id: Annotated[UUID | None, Query(description="Only this key's queries.")] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601; no zone means UTC.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Entries per page.")] = 100,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor`.")] = None,
) -> AuditPage:
    """Newest first. Reading the log is itself logged."""
    params: dict[str, Any] = {"limit": limit + 1}
    clauses: list[LiteralString] = []
    if key_id is not None:
        clauses.append("key_id = %(key_id)s")
        params["key_id"] = key_id
    if since is not None:
        clauses.append("at >= %(since)s")
        params["since"] = as_utc(since)
    if (after := parse_cursor(cursor)) is not None:
        clauses.append("(at, id) < (%(cursor_at)s, %(cursor_id)s)")
        params.update(cursor_at=after.timestamp, cursor_id=after.id)
    where: LiteralString = " AND ".join(clauses) if clauses else "TRUE"
    query: LiteralString = (
        "SELECT id, at, key_id, key_name, method, path, params, status, result_count"
        f" FROM audit_log WHERE {where} ORDER BY at DESC, id DESC LIMIT %(limit)s"
    )
    async with resources_of(request).pool.connection() as conn:
        rows = await (await conn.cursor(row_factory=dict_row).execute(query, params)).fetchall()
        entries = [AuditEntry(**row) for row in rows[:limit]]
        await record_query(conn, key, request, 200, len(entries))
    last = entries[-1] if len(rows) > limit else None
    return AuditPage(items=entries, next_cursor=Cursor(last.at, last.id).encode() if last else None)
