"""How the API sends a query: prepared with a generic plan, or one-shot, planned for its values.

The API's connections run every prepared statement with its generic plan
(``plan_cache_mode=force_generic_plan``, see ``app.api_conninfo``): the list, exact, prefix,
wildcard and fuzzy search and one-read queries, whose generic plans are as good as planning
each time, and cost no planning. PostgreSQL applies that mode to every statement sent with
parameters, prepared or not, and the statements whose best plan depends on the values (several
cameras, the time windows of a later page) must be planned for them: those are bound by psycopg
on the client (``AsyncClientCursor``, values quoted by psycopg) and sent as one-shot
statements, which PostgreSQL always plans for the values given.
"""

from __future__ import annotations

from typing import Any, LiteralString, TypeVar

from fastapi import Request
from psycopg import AsyncClientCursor, AsyncConnection
from psycopg.rows import AsyncRowFactory, dict_row, tuple_row

from alpr_core.api.audit import audited_page, record_query
from alpr_core.api.queries import PageQuery, Statement
from alpr_core.db.api_keys import ApiKey

Row = TypeVar("Row")


async def fetch_rows(
    conn: AsyncConnection[Any], query: LiteralString, params: dict[str, Any], *, prepared: bool
) -> list[dict[str, Any]]:
    """The rows as dicts, by column name."""
    return await fetch(conn, query, params, prepared=prepared, row_factory=dict_row)


async def fetch(
    conn: AsyncConnection[Any],
    query: LiteralString,
    params: dict[str, Any],
    *,
    prepared: bool,
    row_factory: AsyncRowFactory[Row],
) -> list[Row]:
    if prepared:  # results in binary: no text to format and parse for times and numbers
        cursor = conn.cursor(row_factory=row_factory, binary=True)
    else:  # (client-side binding has no binary results)
        cursor = AsyncClientCursor(conn, row_factory=row_factory)
    async with cursor:
        await cursor.execute(query, params, prepare=prepared)
        return await cursor.fetchall()


async def count_rows(
    conn: AsyncConnection[Any], statements: list[Statement], *, prepared: bool
) -> int:
    """How many rows ``statements`` return together, run in order: each one's rows counted by
    PostgreSQL, none sent. Each statement's own LIMIT bounds the count."""
    counted = 0
    for query, params in statements:
        total: LiteralString = f"SELECT count(*) FROM ({query}) AS counted"
        rows = await fetch(conn, total, params, prepared=prepared, row_factory=tuple_row)
        counted += int(rows[0][0])
        if counted >= params["limit"]:
            break
    return counted


async def fetch_page_rows(conn: AsyncConnection[Any], page: PageQuery) -> list[dict[str, Any]]:
    """Rows by column name from ``page``'s statements run in order (each returns its rows in
    page order, and each covers older reads than the one before) until ``limit + 1`` are found.
    The connection is in autocommit: each statement is one round trip, with no BEGIN."""
    wanted = page.limit + 1
    rows: list[dict[str, Any]] = []
    for query, params in page.statements:
        rows += await fetch(conn, query, params, prepared=page.prepared, row_factory=dict_row)
        if len(rows) >= wanted:
            break
    return rows[:wanted]


async def fetch_audited_page(
    conn: AsyncConnection[Any], page: PageQuery, key: ApiKey, request: Request
) -> list[dict[str, Any]]:
    """Up to ``limit + 1`` rows of ``page``, by column name, and its audit row: written by the
    page's own statement when it is one, else after the statements."""
    if len(page.statements) == 1:
        query, params = audited_page(
            *page.statements[0], key, request, limit=page.limit, order_by=page.order_by
        )
        return await fetch(conn, query, params, prepared=page.prepared, row_factory=dict_row)
    rows = await fetch_page_rows(conn, page)
    await record_query(conn, key, request, 200, min(len(rows), page.limit))
    return rows
