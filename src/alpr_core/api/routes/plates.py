"""Plate reads: list with filters and keyset pages, search by plate, one record, its image.

Every endpoint needs a viewer or admin key, sees only what the key's scope allows, and writes one
audit row.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import RedirectResponse
from psycopg import AsyncConnection
from starlette.concurrency import run_in_threadpool

from alpr_core.api.audit import audited, record_query
from alpr_core.api.cursor import Cursor
from alpr_core.api.deps import ReaderKey, Resources, resources_of
from alpr_core.api.export import (
    Export,
    ExportFormat,
    columns_of,
    export_response,
    export_responses,
)
from alpr_core.api.params import parse_cursor, require_purpose
from alpr_core.api.plate_query import (
    PlateListQuery,
    PlateSearchQuery,
    openapi_parameters,
    read_query,
)
from alpr_core.api.problems import Problem, problem_responses
from alpr_core.api.queries import PlateFilters, detail_query, page_query
from alpr_core.api.schemas import (
    ImageLinks,
    PlateDetail,
    PlatePage,
    PlateSummary,
    image_url,
    vehicle_of,
)
from alpr_core.api.search import PlateMatch, plate_match
from alpr_core.api.statements import count_rows, fetch_audited_page, fetch_page_rows, fetch_rows
from alpr_core.db.annotations import notes_of, tags_of
from alpr_core.db.api_keys import ApiKey
from alpr_core.db.corrections import corrections_of
from alpr_core.images.ownership import EdgeUploads

router = APIRouter(prefix="/plates", tags=["plates"])

Row = dict[str, Any]
_PROBLEMS = problem_responses(401, 403, 422)
_NOT_FOUND = problem_responses(404)
# Pages are shaped by the SQL and serialized once (orjson), so no response_model validates them
# again; the schema is declared for the OpenAPI document, and the API tests check every answer.
_PAGE: dict[int | str, dict[str, Any]] = {200: {"model": PlatePage, "description": "A page."}}
_EXPORT = export_responses()
_SUMMARY_FIELDS = tuple(name for name in PlateSummary.model_fields if name != "image_url")


def _summary_fields(row: dict[str, Any], edge: EdgeUploads) -> dict[str, Any]:
    """A read's row (``SUMMARY_COLUMNS`` or more, by name) as ``PlateSummary`` says."""
    fields = {name: row[name] for name in _SUMMARY_FIELDS}
    fields["image_url"] = image_url(row["id"], _image_key(row, edge))
    return fields


def summaries(rows: list[dict[str, Any]], edge: EdgeUploads) -> list[dict[str, Any]]:
    """A page's rows (``SUMMARY_COLUMNS``, by name) as ``PlateSummary`` says, in place: the
    image columns give way to ``image_url``."""
    for row in rows:
        stored, plate_url = row.pop("image_object_key"), row.pop("plate_url")
        key = stored or edge.owned_key(plate_url, row["camera_id"], row["site"])
        row["image_url"] = image_url(row["id"], key)
    return rows


def _image_key(row: dict[str, Any], edge: EdgeUploads) -> str | None:
    """The key of the read's image: the one we stored, or its camera's own edge upload."""
    stored: str | None = row["image_object_key"]
    return stored or edge.owned_key(row["plate_url"], row["camera_id"], row["site"])


def _filters(request: Request, query: PlateListQuery) -> PlateFilters:
    return query.filters(resources_of(request).settings.max_range_days)


async def _page(
    request: Request,
    key: ApiKey,
    query: PlateListQuery,
    filters: PlateFilters,
    match: PlateMatch | None = None,
) -> Response:
    resources = resources_of(request)
    if query.format is not ExportFormat.JSON:
        export = _reads_export(resources, key, filters, parse_cursor(query.cursor), match)
        return await export_response(request, key, export, query.format)
    limit = query.limit
    page_of = page_query(key, filters, parse_cursor(query.cursor), limit, match)
    async with resources.pool.connection() as conn:
        rows = await fetch_audited_page(conn, page_of, key, request)
    page = summaries(rows[:limit], resources.edge_uploads)
    more = len(rows) > limit and (match is None or match.keyset)
    last = page[-1] if more else None
    next_cursor = Cursor(last["timestamp"], last["id"]).encode() if last else None
    body = {"items": page, "limit": limit, "next_cursor": next_cursor}
    # The rows are typed by the table and shaped here as PlatePage says (the API tests check
    # every answer against the schema): serialized once, not validated again, by orjson
    # (docs/decisions.md#orjson).
    return Response(orjson.dumps(body, option=orjson.OPT_UTC_Z), media_type="application/json")


def _reads_export(
    resources: Resources,
    key: ApiKey,
    filters: PlateFilters,
    start: Cursor | None,
    match: PlateMatch | None,
) -> Export:
    """The reads of a listing or search as a file: keyset pages after ``start``, or one ranked
    page for a fuzzy search."""

    async def chunk(conn: AsyncConnection[Any], after: Cursor | None, limit: int) -> list[Row]:
        return await fetch_page_rows(conn, page_query(key, filters, after, limit, match))

    async def count(conn: AsyncConnection[Any], most: int) -> int:
        page = page_query(key, filters, start, most - 1, match)
        return await count_rows(conn, page.statements, prepared=page.prepared)

    def cursor_of(item: Row) -> Cursor:
        return Cursor(item["timestamp"], item["id"])

    return Export(
        "plates",
        columns_of(PlateSummary),
        chunk,
        lambda rows: summaries(rows, resources.edge_uploads),
        cursor_of if match is None or match.keyset else None,
        count,
        start,
    )


@router.get(
    "",
    responses=_PAGE | _EXPORT | _PROBLEMS,
    summary="List plate reads",
    openapi_extra={"parameters": openapi_parameters(PlateListQuery)},
)
async def list_plates(request: Request, key: ReaderKey) -> Response:
    """Newest first. Pages are keyset-based: follow `next_cursor`; they stay fast at any depth."""
    query = read_query(PlateListQuery, request)
    return await _page(request, key, query, _filters(request, query))


@router.get(
    "/search",
    responses=_PAGE | _EXPORT | _PROBLEMS,
    summary="Search by plate",
    openapi_extra={"parameters": openapi_parameters(PlateSearchQuery)},
)
async def search_plates(request: Request, key: ReaderKey) -> Response:
    """Every `/plates` filter applies. Exact, prefix and wildcard results are newest first and
    page with `next_cursor`; fuzzy results are ranked by closeness and come in one page."""
    query = read_query(PlateSearchQuery, request)
    require_purpose(resources_of(request).settings.require_purpose, query.purpose)
    filters = _filters(request, query)
    match = plate_match(query.mode, query.plate_text)
    if query.cursor is not None and not match.keyset:
        raise Problem(422, "No pages for fuzzy search", "Fuzzy results come in one ranked page.")
    return await _page(request, key, query, filters, match)


async def visible_row(
    conn: AsyncConnection[Any], key: ApiKey, plate_id: int, audit: Request | None = None
) -> dict[str, Any] | None:
    """The read if the key may see it; with ``audit``, the lookup is audited as it runs."""
    query, params = detail_query(key, plate_id)
    if audit is not None:
        query, params = audited(
            query,
            params,
            key,
            audit,
            order_by=None,
            status="CASE count(*) WHEN 0 THEN 404 ELSE 200 END",
        )
    rows = await fetch_rows(conn, query, params, prepared=True)
    return rows[0] if rows else None


PlateId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The read's id.", examples=[12345])]


@router.get(
    "/{plate_id}",
    response_model=PlateDetail,
    responses={**_PROBLEMS, **_NOT_FOUND},
    summary="One plate read, in full",
)
async def get_plate(request: Request, key: ReaderKey, plate_id: PlateId) -> PlateDetail:
    resources = resources_of(request)
    async with resources.pool.connection() as conn:
        row = await visible_row(conn, key, plate_id, audit=request)
        if row is None:
            raise Problem(404, "Not found", f"There is no plate read {plate_id}.")
        return await plate_detail(conn, key, row, resources.edge_uploads)


async def plate_detail(
    conn: AsyncConnection[Any], key: ApiKey, row: Row, edge: EdgeUploads
) -> PlateDetail:
    """The read of ``row`` (``DETAIL_COLUMNS``) in full: with its corrections, and the tags
    and notes on its plate that ``key`` may see."""
    return PlateDetail(
        **_summary_fields(row, edge),
        region=row["region"],
        vehicle=vehicle_of(row),
        images=ImageLinks(
            plate_url=row["plate_url"], vehicle_url=row["vehicle_url"], frame_url=row["frame_url"]
        ),
        host=row["host"],
        latency_ms=row["latency_ms"],
        extras=row["extras"],
        ingested_at=row["ingested_at"],
        corrections=await corrections_of(conn, row["id"], row["timestamp"]),
        tags=await tags_of(conn, key, row["plate_normalized"]),
        notes=await notes_of(conn, key, row["plate_normalized"]),
    )


@router.get(
    "/{plate_id}/image",
    response_class=Response,
    responses={
        **_PROBLEMS,
        200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "The plate crop."},
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
        307: {"description": "With API_IMAGE_REDIRECT: a short-lived presigned URL."},
        **_NOT_FOUND,
    },
    summary="The plate crop image",
)
async def get_plate_image(request: Request, key: ReaderKey, plate_id: PlateId) -> Response:
    resources = resources_of(request)
    async with resources.pool.connection() as conn:
        return await _image_response(request, resources, conn, key, plate_id)


async def _image_response(
    request: Request, resources: Resources, conn: AsyncConnection[Any], key: ApiKey, plate_id: int
) -> Response:
    row = await visible_row(conn, key, plate_id)
    object_key = _image_key(row, resources.edge_uploads) if row else None
    if object_key and resources.settings.image_redirect:
        return await _redirect_to_image(request, resources, conn, key, plate_id, object_key)
    stored = await run_in_threadpool(resources.images.get, object_key) if object_key else None
    await record_query(conn, key, request, 200 if stored else 404, 1 if stored else 0)
    if stored is None:
        raise Problem(404, "No image", f"Plate read {plate_id} has no stored image.")
    etag = f'"{stored.etag}"' if stored.etag else None
    headers = {"Cache-Control": _cache_control(resources.settings.image_max_age_s)}
    headers |= {"ETag": etag} if etag else {}
    if etag and request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(stored.data, media_type=stored.content_type, headers=headers)


def _cache_control(max_age_s: int) -> str:
    """Crops follow access: by default a browser keeps none, so a revoked key or expired data
    is not shown from its cache."""
    return f"private, max-age={max_age_s}" if max_age_s > 0 else "private, no-store"


async def _redirect_to_image(
    request: Request,
    resources: Resources,
    conn: AsyncConnection[Any],
    key: ApiKey,
    plate_id: int,
    object_key: str,
) -> Response:
    ttl = timedelta(seconds=resources.settings.image_url_ttl_s)
    url = await run_in_threadpool(resources.images.presigned_url, object_key, ttl)
    await record_query(conn, key, request, 307 if url else 404, 1 if url else 0)
    if url is None:
        raise Problem(404, "No image", f"Plate read {plate_id} has no stored image.")
    return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
