"""The audit log, for admins: who asked what, when, and how many results they got."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from alpr_core.api.audit import record_query
from alpr_core.api.cursor import Cursor, keyset
from alpr_core.api.deps import AdminKey, resources_of
from alpr_core.api.params import as_utc, parse_cursor
from alpr_core.api.problems import problem_responses
from alpr_core.api.schemas import AuditEntry, AuditPage
from alpr_core.db.audit_log import AuditFilters, read_audit_page

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
    """Newest first; an admin limited to sites or cameras sees only the rows of keys inside
    its scope. Reading the log is itself logged."""
    after = parse_cursor(cursor)
    filters = AuditFilters(key_id, as_utc(since) if since else None, keyset(after))
    async with resources_of(request).pool.connection() as conn:
        rows = await read_audit_page(conn, key, filters, limit + 1)
        entries = [AuditEntry(**row) for row in rows[:limit]]
        await record_query(conn, key, request, 200, len(entries))
    last = entries[-1] if len(rows) > limit else None
    return AuditPage(items=entries, next_cursor=Cursor(last.at, last.id).encode() if last else None)
