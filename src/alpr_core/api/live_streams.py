"""The process's live streams (``/alerts/stream``, ``/plates/stream``): at most
``API_ALERT_STREAMS_MAX`` open at once, each opening audited."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request

from alpr_core.api.audit import record_query
from alpr_core.api.deps import resources_of
from alpr_core.api.problems import Problem
from alpr_core.db.api_keys import ApiKey


async def open_stream(request: Request, key: ApiKey) -> datetime:
    """Take one of the streams (503 when every one is taken) and audit its opening; returns the
    database's time of it. The stream gives its place back with :func:`close_stream`."""
    resources = resources_of(request)
    if resources.alert_streams.locked():
        raise Problem(503, "Too many streams", "Every live stream of this process is taken.")
    await resources.alert_streams.acquire()
    try:
        async with resources.pool.connection() as conn:
            await record_query(conn, key, request, 200, 0)
            cursor = await conn.execute("SELECT now()")
            row = await cursor.fetchone()
    except BaseException:
        close_stream(request)
        raise
    assert row is not None
    opened: datetime = row[0]
    return opened


def close_stream(request: Request) -> None:
    resources_of(request).alert_streams.release()
