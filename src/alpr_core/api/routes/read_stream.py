"""``GET /plates/stream``: reads as they are stored, as Server-Sent Events, inside the key's
scope; what the console's live page shows (docs/decisions.md#console).

The stream asks the database each second for the reads stored since its last look, and ten
seconds before it again (a batch's rows carry the time its transaction began and appear when it
commits), but none stored before the stream opened, and sends each read once. Reads captured
more than 15 minutes before they are stored are not live news and are left out. Opening a
stream is audited; it ends after ``API_ALERT_STREAM_MAX_S``, and live streams of reads and
alerts share ``API_ALERT_STREAMS_MAX``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any, LiteralString

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from alpr_core.api.deps import ReaderKey, resources_of
from alpr_core.api.live_streams import close_stream, open_stream
from alpr_core.api.problems import problem_responses
from alpr_core.api.queries import SUMMARY_COLUMNS, scope_clause
from alpr_core.api.routes.alerts import EVENT_STREAM, HEARTBEAT_S
from alpr_core.api.routes.plates import summaries
from alpr_core.api.schemas import PlateSummary
from alpr_core.api.statements import fetch_rows
from alpr_core.db.api_keys import ApiKey

router = APIRouter(prefix="/plates", tags=["plates"])
POLL_S = 1.0
OVERLAP = timedelta(seconds=10)
BATCH = 500  # reads sent per look at most; the rest come with the next


@router.get(
    "/stream",
    response_class=StreamingResponse,
    summary="Reads as they are stored (Server-Sent Events)",
    responses=problem_responses(401, 403, 503) | {200: {"content": {EVENT_STREAM: {}}}},
)
async def stream_reads(request: Request, key: ReaderKey) -> Response:
    """One `event: read` per read stored from now on in the key's scope (captured at most 15
    minutes before), its `id` the read's id, its `data` the read as `/plates` lists it; a
    comment every 15 s keeps proxies from closing the connection. A stream ends after
    `API_ALERT_STREAM_MAX_S`, and the client reconnects with its key checked again. Streams of
    reads and alerts share `API_ALERT_STREAMS_MAX` per process (then 503)."""
    opened = await open_stream(request, key)
    events = _read_events(request, key, opened)
    return StreamingResponse(events, media_type=EVENT_STREAM, headers={"Cache-Control": "no-store"})


async def _read_events(request: Request, key: ApiKey, opened: datetime) -> AsyncIterator[str]:
    resources = resources_of(request)
    try:
        since, sent = opened, dict[int, datetime]()
        quiet_since = time.monotonic()
        ends = quiet_since + resources.settings.alert_stream_max_s
        while time.monotonic() < ends and not await request.is_disconnected():
            async with resources.pool.connection() as conn:
                after = max(opened, since - OVERLAP)
                rows = await fetch_rows(conn, *_stored_since(key, after), prepared=True)
            fresh = [row for row in rows if row["id"] not in sent]
            for row in fresh:
                sent[row["id"]] = row.pop("ingested_at")
            if fresh:
                since = max(since, *sent.values())
                sent = {read: at for read, at in sent.items() if at >= since - OVERLAP}
                for read in summaries(fresh, resources.edge_uploads):
                    yield _event(read)
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= HEARTBEAT_S:
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()
            await asyncio.sleep(max(0.0, min(POLL_S, ends - time.monotonic())))
    finally:
        close_stream(request)


def _stored_since(key: ApiKey, since: datetime) -> tuple[LiteralString, dict[str, Any]]:
    params: dict[str, Any] = {"since": since}
    clauses: list[LiteralString] = [
        "\"timestamp\" >= now() - interval '15 minutes'",
        "ingested_at >= %(since)s",
        *scope_clause(key, params),
    ]
    where: LiteralString = " AND ".join(clauses)
    query: LiteralString = (
        f"SELECT {SUMMARY_COLUMNS}, ingested_at FROM plate_detections WHERE {where}"
        f" ORDER BY ingested_at, id LIMIT {BATCH}"
    )
    return query, params


def _event(read: dict[str, Any]) -> str:
    data = PlateSummary.model_validate(read).model_dump_json()
    return f"id: {read['id']}\nevent: read\ndata: {data}\n\n"
