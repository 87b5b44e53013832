"""``/passes``: vehicle passes, the reads of one vehicle at one camera as one item
(docs/decisions.md#passes), with ``/plates``'s filters, keyset pages, scopes and audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from psycopg import AsyncConnection
from pydantic import BaseModel, Field

from alpr_core.api.audit import audited_page
from alpr_core.api.cursor import Cursor, keyset
from alpr_core.api.deps import ReaderKey, resources_of
from alpr_core.api.export import (
    Export,
    ExportFormat,
    columns_of,
    export_response,
    export_responses,
)
from alpr_core.api.params import parse_cursor
from alpr_core.api.plate_query import PlateListQuery, openapi_parameters, read_query
from alpr_core.api.problems import problem_responses
from alpr_core.api.queries import PlateFilters
from alpr_core.api.schemas import Vehicle, image_url, vehicle_of
from alpr_core.api.statements import count_rows, fetch_rows
from alpr_core.db.api_keys import ApiKey
from alpr_core.db.pass_views import passes_page_query, passes_rows_query

router = APIRouter(prefix="/passes", tags=["passes"])
Row = dict[str, Any]


class BestRead(BaseModel):
    plate_id: int | None = Field(
        description="The read at `/plates/{id}`; null once retention has deleted it."
    )
    event_id: UUID
    timestamp: datetime
    image_url: str | None = Field(description="Where to GET its plate crop, when there is one.")


class PassSummary(BaseModel):
    id: int = Field(description="Stable until a late read joins this pass to an older one.")
    camera_id: str
    site: str | None
    first_seen: datetime
    last_seen: datetime
    read_count: int = Field(ge=1)
    plate_text: str = Field(
        description="The consensus over the pass's reads (confidence-weighted, OCR look-alikes"
        " folded), as the best read wrote it when the best read says it."
    )
    plate_normalized: str
    confidence: float = Field(ge=0, le=1, description="The best read's.")
    direction: str | None = Field(description="`extras.direction`, when the edge sends it.")
    region: str | None
    vehicle: Vehicle
    best_read: BestRead


class PassPage(BaseModel):
    items: list[PassSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    limit: int


@router.get(
    "",
    response_model=PassPage,
    summary="List vehicle passes, newest first",
    responses=export_responses() | problem_responses(401, 403, 422),
    openapi_extra={"parameters": openapi_parameters(PlateListQuery)},
)
async def list_passes(request: Request, key: ReaderKey) -> PassPage | Response:
    """`/plates`'s filters: `start_time` and `end_time` bound when a pass began, and
    `min_confidence` its best read's. Pages are keyset-based: follow `next_cursor`."""
    resources = resources_of(request)
    query = read_query(PlateListQuery, request)
    filters = query.filters(resources.settings.max_range_days)
    after = parse_cursor(query.cursor)
    if query.format is not ExportFormat.JSON:
        export = _passes_export(request, key, filters, after)
        return await export_response(request, key, export, query.format)
    limit = query.limit
    async with resources.pool.connection() as conn:
        rows = await passes_page_rows(conn, key, request, filters, after, limit)
    page = [pass_summary(row, request) for row in rows[:limit]]
    last = page[-1] if len(rows) > limit else None
    cursor = Cursor(last.first_seen, last.id).encode() if last else None
    return PassPage(items=page, next_cursor=cursor, limit=limit)


def _passes_export(
    request: Request, key: ApiKey, filters: PlateFilters, start: Cursor | None
) -> Export:
    """The passes of a listing as a file, keyset page after keyset page from ``start``."""

    async def chunk(conn: AsyncConnection[Any], after: Cursor | None, limit: int) -> list[Row]:
        sql, params = passes_page_query(key, filters, keyset(after), limit)
        return await fetch_rows(conn, sql, params, prepared=False)

    async def count(conn: AsyncConnection[Any], most: int) -> int:
        statement = passes_rows_query(key, filters, keyset(start), most - 1)
        return await count_rows(conn, [statement], prepared=False)

    def items(rows: list[Row]) -> list[Row]:
        return [pass_summary(row, request).model_dump() for row in rows]

    def cursor_of(item: Row) -> Cursor:
        return Cursor(item["first_seen"], item["id"])

    return Export("passes", columns_of(PassSummary), chunk, items, cursor_of, count, start)


async def passes_page_rows(
    conn: AsyncConnection[Any],
    key: ApiKey,
    request: Request,
    filters: PlateFilters,
    after: Cursor | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Up to ``limit + 1`` rows of a page, and its audit row, written by the same statement."""
    sql, params = passes_page_query(key, filters, keyset(after), limit)
    statement, all_params = audited_page(
        sql, params, key, request, limit=limit, order_by="first_seen DESC, id DESC"
    )
    return await fetch_rows(conn, statement, all_params, prepared=False)


def pass_summary(row: dict[str, Any], request: Request) -> PassSummary:
    """A row of ``passes_page_query`` as the API shows a pass."""
    edge = resources_of(request).edge_uploads
    stored = row["image_object_key"] or edge.owned_key(
        row["plate_url"], row["camera_id"], row["site"]
    )
    plate_id = row["best_plate_id"]
    return PassSummary(
        id=row["id"],
        camera_id=row["camera_id"],
        site=row["site"],
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        read_count=row["read_count"],
        plate_text=row["plate_text"],
        plate_normalized=row["plate_normalized"],
        confidence=row["best_confidence"],
        direction=row["direction"],
        region=row["region"],
        vehicle=vehicle_of(row),
        best_read=BestRead(
            plate_id=plate_id,
            event_id=row["best_event_id"],
            timestamp=row["best_at"],
            image_url=image_url(plate_id, stored) if plate_id else None,
        ),
    )
