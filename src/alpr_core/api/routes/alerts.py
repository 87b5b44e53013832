"""``/alerts``: the passes of listed vehicles, for keys that read plates (viewer, admin), inside
their scope, every request audited as ``/plates`` is; and the workflow: acknowledge, then confirm
or dismiss (docs/decisions.md#watchlist-matching)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import psycopg
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from psycopg import AsyncConnection
from psycopg.rows import class_row
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from alpr_core.api.audit import audited_page, record_query
from alpr_core.api.cursor import Cursor, keyset
from alpr_core.api.deps import ReaderKey, resources_of
from alpr_core.api.export import Export, ExportFormat, export_response, export_responses
from alpr_core.api.live_streams import close_stream, open_stream
from alpr_core.api.params import as_utc, parse_cursor
from alpr_core.api.plate_query import NO_NUL
from alpr_core.api.problems import Problem, problem_responses
from alpr_core.api.statements import count_rows, fetch, fetch_rows
from alpr_core.db import alert_views as db
from alpr_core.db.api_keys import ApiKey
from alpr_core.db.watchlists import Priority
from alpr_core.jobs.alert_dispatch import CHANNEL as ALERTS_CHANNEL

router = APIRouter(prefix="/alerts", tags=["alerts"])
EVENT_STREAM = "text/event-stream"
AlertOut = TypeAdapter(db.Alert)
ANSWERS = problem_responses(401, 403, 404, 409, 422)


class AlertPage(BaseModel):
    items: list[db.Alert]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class AlertDetail(BaseModel):
    alert: db.Alert
    reads: list[db.AlertRead] = Field(
        description="Its reads, oldest first; `plate_id` opens one at `/plates/{id}` and its crop"
        " at `/plates/{id}/image`."
    )


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)


@router.get(
    "",
    response_model=AlertPage,
    summary="Alerts, newest pass first",
    responses=export_responses() | ANSWERS,
)
async def read_alerts(
    request: Request,
    key: ReaderKey,
    status: Annotated[db.AlertStatus | None, Query()] = None,
    priority: Annotated[Priority | None, Query()] = None,
    watchlist_id: Annotated[UUID | None, Query()] = None,
    camera_id: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    site: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    since: Annotated[
        datetime | None, Query(description="First read at or after; ISO 8601.")
    ] = None,
    until: Annotated[datetime | None, Query(description="First read before; ISO 8601.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor`.")] = None,
    format: Annotated[
        ExportFormat,
        Query(description="`json`: a page; `csv` or `ndjson`: a file, as on `/plates`."),
    ] = ExportFormat.JSON,
) -> AlertPage | Response:
    after = parse_cursor(cursor)
    filters = db.AlertFilters(
        status,
        priority,
        watchlist_id,
        camera_id,
        site,
        as_utc(since) if since else None,
        as_utc(until) if until else None,
    )
    if format is not ExportFormat.JSON:
        return await export_response(request, key, _alerts_export(key, filters, after), format)
    query, params = db.alerts_page_query(key, filters, keyset(after), limit)
    statement, all_params = audited_page(
        query, params, key, request, limit=limit, order_by="first_seen DESC, id DESC"
    )
    async with resources_of(request).pool.connection() as conn:
        rows = await fetch(
            conn, statement, all_params, prepared=False, row_factory=class_row(db.Alert)
        )
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    return AlertPage(
        items=page, next_cursor=Cursor(last.first_seen, last.id).encode() if last else None
    )


def _alerts_export(key: ApiKey, filters: db.AlertFilters, start: Cursor | None) -> Export:
    """The alerts of a listing as a file, keyset page after keyset page from ``start``."""

    async def chunk(
        conn: AsyncConnection[Any], after: Cursor | None, limit: int
    ) -> list[dict[str, Any]]:
        query, params = db.alerts_page_query(key, filters, keyset(after), limit)
        return await fetch_rows(conn, query, params, prepared=False)

    async def count(conn: AsyncConnection[Any], most: int) -> int:
        statement = db.alerts_page_query(key, filters, keyset(start), most - 1)
        return await count_rows(conn, [statement], prepared=False)

    def cursor_of(item: dict[str, Any]) -> Cursor:
        return Cursor(item["first_seen"], item["id"])

    columns = [field.name for field in dataclasses.fields(db.Alert)]
    return Export("alerts", columns, chunk, lambda rows: rows, cursor_of, count, start)


HEARTBEAT_S = 15.0


@router.get(
    "/stream",
    response_class=StreamingResponse,
    summary="New alerts as they are opened (Server-Sent Events)",
    responses=problem_responses(401, 403, 503) | {200: {"content": {EVENT_STREAM: {}}}},
)
async def stream_alerts(
    request: Request,
    key: ReaderKey,
    last_event_id: Annotated[
        str | None,
        Header(description="The last `id` received: the stream resumes after it."),
    ] = None,
) -> Response:
    """One `event: alert` per opened alert in the key's scope, its `id` the outbox id, its
    `data` the alert as JSON; a comment every 15 s keeps proxies from closing the connection. A
    stream resumed with `Last-Event-ID` first sends what came after it, and the alerts of the
    ten seconds before it again (one may have committed late): drop ids you have. A stream ends
    after `API_ALERT_STREAM_MAX_S`, and the client reconnects with its key checked again. At
    most `API_ALERT_STREAMS_MAX` streams per process (then 503)."""
    resume = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
    await open_stream(request, key)
    events = _alert_events(request, key, resume)
    return StreamingResponse(events, media_type=EVENT_STREAM, headers={"Cache-Control": "no-store"})


async def _alert_events(request: Request, key: ApiKey, resume: int | None) -> AsyncIterator[str]:
    resources = resources_of(request)
    try:
        async with await psycopg.AsyncConnection.connect(
            resources.conninfo, autocommit=True
        ) as conn:
            await conn.execute(f"LISTEN {ALERTS_CHANNEL}")
            if resume is not None:
                for event in await db.alert_events(conn, key, resume_after=resume):
                    yield _event(*event)
            quiet_since = time.monotonic()
            ends = quiet_since + resources.settings.alert_stream_max_s
            while time.monotonic() < ends and not await request.is_disconnected():
                wait_s = max(0.0, min(1.0, ends - time.monotonic()))
                notes = conn.notifies(timeout=wait_s, stop_after=100)
                ids = [int(note.payload) async for note in notes]
                if ids:
                    for event in await db.alert_events(conn, key, outbox_ids=ids):
                        yield _event(*event)
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since >= HEARTBEAT_S:
                    yield ": keep-alive\n\n"
                    quiet_since = time.monotonic()
    finally:
        close_stream(request)


def _event(event_id: int, alert: db.Alert) -> str:
    data = AlertOut.dump_json(alert).decode()
    return f"id: {event_id}\nevent: alert\ndata: {data}\n\n"


@router.get(
    "/{alert_id}", response_model=AlertDetail, summary="One alert and its reads", responses=ANSWERS
)
async def read_alert(request: Request, key: ReaderKey, alert_id: int) -> AlertDetail:
    async with resources_of(request).pool.connection() as conn:
        alert = await db.get_alert(conn, key, alert_id)
        reads = await db.reads_of(conn, alert_id) if alert else []
        await record_query(conn, key, request, 200 if alert else 404, len(reads))
    if alert is None:
        raise _not_found()
    return AlertDetail(alert=alert, reads=reads)


Action = Literal["acknowledge", "confirm", "dismiss"]


@router.post(
    "/{alert_id}/{action}",
    response_model=db.Alert,
    summary="Acknowledge an alert, then confirm or dismiss it (a misread)",
    responses=ANSWERS,
)
async def change_alert(
    request: Request, key: ReaderKey, alert_id: int, action: Action, body: StatusChange
) -> db.Alert:
    """Records who did it and when, and the note if one is given. A change out of order (to
    confirm an alert nobody acknowledged, or to change a resolved one) is a 409."""
    async with resources_of(request).pool.connection() as conn:
        changed = await db.change_status(conn, key, alert_id, action, body.note)
        if changed is not None:
            await record_query(conn, key, request, 200, 1)
            return changed
        current = await db.get_alert(conn, key, alert_id)
        await record_query(conn, key, request, 409 if current else 404, 0)
    if current is None:
        raise _not_found()
    becomes = db.TRANSITIONS[action][0]
    raise Problem(409, "Conflict", f"An alert that is {current.status} cannot be {becomes}.")


def _not_found() -> Problem:
    return Problem(404, "Not found", "No such alert for this key.")
