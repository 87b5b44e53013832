"""``/watchlists``: lists of plates to be told about, and their entries, for keys that may manage
them (admin, watchlist). Every request is audited, the changes included; a list outside the
key's sites is answered as if it did not exist (docs/decisions.md#watchlists)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from psycopg import AsyncConnection
from psycopg.errors import UniqueViolation

from alpr_core.api.audit import record_query
from alpr_core.api.deps import WatchlistKey, resources_of
from alpr_core.api.ingest_body import media_type, read_capped
from alpr_core.api.problems import Problem, problem_responses
from alpr_core.api.watchlist_csv import (
    MEDIA_TYPE,
    UnreadableCsvError,
    entry_line,
    header_line,
    parse_entries,
)
from alpr_core.api.watchlist_models import (
    EntryIn,
    EntryPage,
    ImportReport,
    WatchlistChange,
    WatchlistIn,
    WatchlistList,
)
from alpr_core.db import watchlists as db
from alpr_core.db.api_keys import ApiKey

router = APIRouter(prefix="/watchlists", tags=["watchlists"])
T = TypeVar("T")
ANSWERS = problem_responses(401, 403, 404, 422)
_OUT_OF_SCOPE = "A key limited to sites may only hold lists of those sites."


def _not_found() -> Problem:
    return Problem(404, "Not found", "No such watchlist (or entry) for this key.")


def _duplicate() -> Problem:
    return Problem(409, "Conflict", "The list already has this plate with this reference.")


async def visible_list(
    conn: AsyncConnection[Any], key: ApiKey, request: Request, watchlist_id: UUID
) -> db.Watchlist:
    found = await db.get_watchlist(conn, key, watchlist_id)
    return found if found is not None else await found_or_404(conn, key, request, found, 200)


async def found_or_404(
    conn: AsyncConnection[Any], key: ApiKey, request: Request, found: T | None, status: int
) -> T:
    """Audit a request on one list or entry: ``status`` when it was ``found``, else a 404, which
    is raised."""
    await record_query(conn, key, request, status if found is not None else 404, int(bool(found)))
    if found is None:
        raise _not_found()
    return found


@router.get("", response_model=WatchlistList, summary="The lists this key may see")
async def read_watchlists(request: Request, key: WatchlistKey) -> WatchlistList:
    async with resources_of(request).pool.connection() as conn:
        found = await db.list_watchlists(conn, key)
        await record_query(conn, key, request, 200, len(found))
    return WatchlistList(items=found)


@router.post(
    "", status_code=201, response_model=db.Watchlist, summary="Create a list", responses=ANSWERS
)
async def create_watchlist(request: Request, key: WatchlistKey, body: WatchlistIn) -> db.Watchlist:
    async with resources_of(request).pool.connection() as conn:
        if not db.may_hold(key, body.sites):
            await record_query(conn, key, request, 403, 0)
            raise Problem(403, "Forbidden", _OUT_OF_SCOPE)
        created = await db.create_watchlist(conn, key, body.model_dump())
        await record_query(conn, key, request, 201, 1)
    return created


@router.get("/{watchlist_id}", response_model=db.Watchlist, summary="One list", responses=ANSWERS)
async def read_watchlist(request: Request, key: WatchlistKey, watchlist_id: UUID) -> db.Watchlist:
    async with resources_of(request).pool.connection() as conn:
        found = await visible_list(conn, key, request, watchlist_id)
        await record_query(conn, key, request, 200, 1)
    return found


@router.patch(
    "/{watchlist_id}", response_model=db.Watchlist, summary="Change a list", responses=ANSWERS
)
async def change_watchlist(
    request: Request, key: WatchlistKey, watchlist_id: UUID, body: WatchlistChange
) -> db.Watchlist:
    changes = body.model_dump(include=body.model_fields_set)
    async with resources_of(request).pool.connection() as conn:
        if "sites" in changes and not db.may_hold(key, changes["sites"]):
            await record_query(conn, key, request, 403, 0)
            raise Problem(403, "Forbidden", _OUT_OF_SCOPE)
        changed = await db.update_watchlist(conn, key, watchlist_id, changes)
        return await found_or_404(conn, key, request, changed, 200)


@router.delete(
    "/{watchlist_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a list and its entries",
    responses=ANSWERS,
)
async def delete_watchlist(request: Request, key: WatchlistKey, watchlist_id: UUID) -> Response:
    async with resources_of(request).pool.connection() as conn:
        deleted = await db.delete_watchlist(conn, key, watchlist_id)
        await found_or_404(conn, key, request, True if deleted else None, 204)
    return Response(status_code=204)


@router.get(
    "/{watchlist_id}/entries",
    response_model=EntryPage,
    summary="A list's entries, by id",
    responses=ANSWERS,
)
async def read_entries(
    request: Request,
    key: WatchlistKey,
    watchlist_id: UUID,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[UUID | None, Query(description="`next_cursor` of the page before")] = None,
) -> EntryPage:
    async with resources_of(request).pool.connection() as conn:
        await visible_list(conn, key, request, watchlist_id)
        found = await db.list_entries(conn, watchlist_id, cursor, limit)
        page = found[:limit]
        await record_query(conn, key, request, 200, len(page))
    more = len(found) > limit
    return EntryPage(
        items=page,
        next_cursor=str(page[-1].id) if more else None,
    )


@router.post(
    "/{watchlist_id}/entries",
    status_code=201,
    response_model=db.Entry,
    summary="Add an entry",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_entry(
    request: Request, key: WatchlistKey, watchlist_id: UUID, body: EntryIn
) -> db.Entry:
    async with resources_of(request).pool.connection() as conn:
        await visible_list(conn, key, request, watchlist_id)
        created = await db.create_entry(conn, watchlist_id, body.spec())
        await record_query(conn, key, request, 201 if created else 409, 1 if created else 0)
    if created is None:
        raise _duplicate()
    return created


@router.put(
    "/{watchlist_id}/entries/{entry_id}",
    response_model=db.Entry,
    summary="Replace an entry",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def replace_entry(
    request: Request, key: WatchlistKey, watchlist_id: UUID, entry_id: UUID, body: EntryIn
) -> db.Entry:
    async with resources_of(request).pool.connection() as conn:
        await visible_list(conn, key, request, watchlist_id)
        try:
            replaced = await db.replace_entry(conn, watchlist_id, entry_id, body.spec())
        except UniqueViolation:
            await record_query(conn, key, request, 409, 0)
            raise _duplicate() from None
        return await found_or_404(conn, key, request, replaced, 200)


@router.delete(
    "/{watchlist_id}/entries/{entry_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an entry",
    responses=ANSWERS,
)
async def delete_entry(
    request: Request, key: WatchlistKey, watchlist_id: UUID, entry_id: UUID
) -> Response:
    async with resources_of(request).pool.connection() as conn:
        await visible_list(conn, key, request, watchlist_id)
        deleted = await db.delete_entry(conn, watchlist_id, entry_id)
        await found_or_404(conn, key, request, True if deleted else None, 204)
    return Response(status_code=204)


@router.get(
    "/{watchlist_id}/entries.csv",
    response_class=StreamingResponse,
    summary="Export a list's entries as CSV",
    responses=ANSWERS | {200: {"content": {MEDIA_TYPE: {}}}},
)
async def export_entries(request: Request, key: WatchlistKey, watchlist_id: UUID) -> Response:
    """The file :func:`import_entries` reads back unchanged (api/watchlist_csv.py), streamed. The
    audit row counts the list's entries when the export starts."""
    pool = resources_of(request).pool
    async with pool.connection() as conn:
        await visible_list(conn, key, request, watchlist_id)
        count = await db.count_entries(conn, watchlist_id)
        await record_query(conn, key, request, 200, count)

    async def lines() -> AsyncIterator[str]:
        yield header_line()
        async with pool.connection() as conn, conn.transaction():
            async for entry in db.entries_of(conn, watchlist_id):
                yield entry_line(entry)

    return StreamingResponse(
        lines(),
        media_type=f"{MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="watchlist-{watchlist_id}.csv"'},
    )


@router.post(
    "/{watchlist_id}/entries.csv",
    response_model=ImportReport,
    summary="Import entries from CSV",
    responses=problem_responses(400, 401, 403, 404, 413, 415, 422),
    openapi_extra={"requestBody": {"required": True, "content": {MEDIA_TYPE: {}}}},
)
async def import_entries(
    request: Request,
    key: WatchlistKey,
    watchlist_id: UUID,
    replace: Annotated[
        bool, Query(description="Also delete the list's entries that the file does not hold.")
    ] = False,
) -> ImportReport:
    """Add or update each line's entry by (plate, reference): importing a file twice changes
    nothing. Lines that are not valid entries are reported, and the others land; with
    ``replace``, one rejected line means nothing lands (422)."""
    settings = resources_of(request).settings
    if media_type(request.headers.get("content-type")) != MEDIA_TYPE:
        raise Problem(415, "Unsupported media type", f"Send {MEDIA_TYPE}.")
    body = await read_capped(request, settings.watchlist_import_max_bytes)
    async with resources_of(request).pool.connection() as conn:
        await visible_list(conn, key, request, watchlist_id)
        try:
            parsed = parse_entries(body, settings.watchlist_import_max_entries)
        except UnreadableCsvError as error:
            await record_query(conn, key, request, 422, 0)
            raise Problem(422, "Unreadable CSV", str(error)) from None
        report = ImportReport(rejected=parsed.rejected)
        if parsed.rejected and (replace or not parsed.entries):
            await record_query(conn, key, request, 422, 0)
            raise Problem(
                422,
                "Rejected lines",
                report.summary(),
                rejected=[asdict(line) for line in report.rejected],
            )
        async with conn.transaction():
            counts = await db.import_entries(conn, watchlist_id, parsed.entries, replace=replace)
        await record_query(conn, key, request, 200, counts.created + counts.updated)
    return report.with_counts(counts)
