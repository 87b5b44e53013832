"""Listings as files: ``format=csv`` or ``format=ndjson`` on ``/plates``, ``/plates/search``,
``/passes``, ``/alerts`` and ``/stats`` (docs/decisions.md#export).

An export is streamed chunk by chunk, each chunk one keyset page on a connection borrowed for
that page alone, so neither the rows nor a connection are held for the whole download. It ends
at ``API_EXPORT_MAX_ROWS`` rows. Before the first byte, the matches are counted (up to one past
the cap, which ``X-Export-Truncated`` reports) and the export's audit row is written with the
rows it holds: no file leaves without its audit row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from psycopg import AsyncConnection
from pydantic import BaseModel

from alpr_core.api.audit import record_query
from alpr_core.api.cursor import Cursor
from alpr_core.api.deps import resources_of
from alpr_core.db.api_keys import ApiKey

CHUNK_ROWS = 1000  # rows per page of an export
# A cell a spreadsheet would read as a formula (CSV injection) starts with one of these; such a
# cell is written with a leading apostrophe, as OWASP advises.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NDJSON_TYPE = "application/x-ndjson"


class ExportFormat(StrEnum):
    JSON = "json"  # a page, as without `format`
    CSV = "csv"
    NDJSON = "ndjson"


# Rows after a cursor (None: from the start): up to ``limit + 1`` of them, by column name.
Chunk = Callable[[AsyncConnection[Any], Cursor | None, int], Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True, slots=True)
class Export:
    """What one export streams: ``chunk`` fetches rows after a cursor; ``items`` makes a chunk's
    rows into the items a JSON page holds; ``cursor_of`` is the cursor after an item; ``count``
    counts the matches, at most its argument (one more than the cap says "more matched")."""

    name: str  # the file's name, before its extension
    columns: list[str]  # a CSV's header: the items' flattened names (``columns_of``)
    chunk: Chunk
    items: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
    cursor_of: Callable[[dict[str, Any]], Cursor] | None  # None: one ranked chunk, no pages
    count: Callable[[AsyncConnection[Any], int], Awaitable[int]]
    start: Cursor | None = None


async def export_response(
    request: Request, key: ApiKey, export: Export, file_format: ExportFormat
) -> Response:
    """The streamed file, after counting its matches (errors before the first byte are
    problems, as for a page)."""
    resources = resources_of(request)
    cap = resources.settings.export_max_rows
    async with resources.pool.connection() as conn:
        matched = await export.count(conn, cap + 1)
        await record_query(conn, key, request, 200, min(cap, matched))
    headers = {
        "Content-Disposition": f'attachment; filename="{export.name}.{file_format.value}"',
        "X-Export-Max-Rows": str(cap),
        "X-Export-Truncated": "true" if matched > cap else "false",
        "Cache-Control": "private, no-store",
    }
    media_type = "text/csv; charset=utf-8" if file_format is ExportFormat.CSV else NDJSON_TYPE
    body = _stream(request, export, file_format, min(cap, matched))
    return StreamingResponse(body, media_type=media_type, headers=headers)


def export_responses() -> dict[int | str, dict[str, Any]]:
    """The files a listing's 200 may also be, for the OpenAPI document."""
    return {
        200: {
            "content": {"text/csv": {}, NDJSON_TYPE: {}},
            "description": "With `format=csv` or `format=ndjson`: the matches as a file.",
        }
    }


async def _stream(
    request: Request, export: Export, file_format: ExportFormat, rows: int
) -> AsyncIterator[bytes]:
    """At most ``rows`` items, a chunk at a time (one ranked chunk without a cursor)."""
    pool = resources_of(request).pool
    encode = _csv_lines(export.columns) if file_format is ExportFormat.CSV else _ndjson_lines
    sent, after = 0, export.start
    while sent < rows:
        wanted = min(CHUNK_ROWS, rows - sent) if export.cursor_of else rows
        async with pool.connection() as conn:
            found = await export.chunk(conn, after, wanted)
        items = export.items(found[:wanted])
        if items:
            yield encode(items)
            sent += len(items)
        if len(found) <= wanted or export.cursor_of is None:
            break
        after = export.cursor_of(items[-1])
    if sent == 0 and file_format is ExportFormat.CSV:
        yield encode([])  # the header alone


def _ndjson_lines(items: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(item, option=orjson.OPT_UTC_Z) + b"\n" for item in items)


def _csv_lines(columns: list[str]) -> Callable[[list[dict[str, Any]]], bytes]:
    """A CSV encoder of items with these flattened ``columns``; the first call writes the
    header."""
    header = [columns]

    def encode(items: list[dict[str, Any]]) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerows(header)
        header.clear()
        flat = [flatten(item) for item in items]
        writer.writerows([[csv_cell(row.get(name)) for name in columns] for row in flat])
        return out.getvalue().encode()

    return encode


def columns_of(model: type[BaseModel], prefix: str = "") -> list[str]:
    """``model``'s fields, with a nested model's as dotted names, as :func:`flatten` makes them."""
    columns: list[str] = []
    for name, field in model.model_fields.items():
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            columns += columns_of(nested, f"{prefix}{name}.")
        else:
            columns.append(f"{prefix}{name}")
    return columns


def flatten(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted names: ``{"vehicle": {"type": "car"}}`` is ``vehicle.type``."""
    flat: dict[str, Any] = {}
    for name, value in item.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def csv_cell(value: Any) -> str:
    """A value as a CSV cell: times in ISO 8601, nothing as empty, and text that a spreadsheet
    would run as a formula kept as text."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat()).replace("+00:00", "Z")
    if isinstance(value, list | tuple):
        value = orjson.dumps(value).decode()
    if not isinstance(value, str):
        return str(value)
    return "'" + value if value.startswith(_FORMULA_STARTS) else value
