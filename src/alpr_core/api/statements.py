"""How the API sends a query: prepared with a generic plan, or one-shot, planned for its values.

The API's connections run every prepared statement with its generic plan
(``plan_cache_mode=force_generic_plan``, see ``app.api_conninfo``): the list, exact and fuzzy
search and one-read queries, whose generic plans are as good as planning each time, and cost no
planning.
PostgreSQL applies that mode to every statement sent with parameters, prepared or not, and the
searches whose best plan depends on the values (prefix and wildcard windows) must be
planned for them: those are bound by psycopg on the client (``AsyncClientCursor``, values
quoted by psycopg) and sent as one-shot statements, which PostgreSQL always plans for the
values given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, LiteralString

from psycopg import AsyncClientCursor, AsyncConnection
from psycopg.rows import dict_row

from alpr_core.api.queries import Statement


async def fetch_rows(
    conn: AsyncConnection[Any], query: LiteralString, params: dict[str, Any], *, prepared: bool
) -> list[dict[str, Any]]:
    if prepared:
        cursor = conn.cursor(row_factory=dict_row)
    else:
        cursor = AsyncClientCursor(conn, row_factory=dict_row)
    async with cursor:
        await cursor.execute(query, params, prepare=prepared)
        return await cursor.fetchall()


async def fetch_page_rows(
    conn: AsyncConnection[Any],
    statements: Sequence[Statement],
    wanted: int,
    *,
    prepared: bool,
) -> list[dict[str, Any]]:
    """Rows from ``statements`` run in order (each returns its rows in page order, and each
    covers older reads than the one before) until ``wanted`` are found. The connection is in
    autocommit: each statement is one round trip, with no BEGIN."""
    rows: list[dict[str, Any]] = []
    for query, params in statements:
        rows += await fetch_rows(conn, query, params, prepared=prepared)
        if len(rows) >= wanted:
            break
    return rows[:wanted]
