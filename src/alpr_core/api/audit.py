"""One audit row per plate query: who, from where, when, which parameters, how many results;
and one per denied request (401, 403, 429).

Reads write theirs in the same statement as the query (``audited``): one round trip, and the row
is there exactly when the query ran. Image requests, whose outcome depends on S3, and searches
that take two statements (``queries.page_queries``) write theirs afterwards (``record_query``).
"""

from __future__ import annotations

from typing import Any, LiteralString

from fastapi import Request
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from alpr_core.api.deps import request_client
from alpr_core.db.api_keys import ApiKey

_AUDIT_COLUMNS: LiteralString = (
    "key_id, key_name, method, path, params, status, result_count, client_addr, purpose"
)


def _who_and_what(key: ApiKey | None, request: Request) -> dict[str, Any]:
    query = request.query_params
    return {
        "audit_key_id": key.id if key else None,
        "audit_key_name": key.name if key else "",
        "audit_method": request.method,
        "audit_path": request.scope["path"],  # request.url would parse the whole URL
        "audit_params": Jsonb({name: query.getlist(name) for name in query}),
        "audit_client": request_client(request),
        "audit_purpose": query.get("purpose"),
    }


def audited(
    query: LiteralString,
    params: dict[str, Any],
    key: ApiKey,
    request: Request,
    *,
    order_by: LiteralString | None,
    status: LiteralString = "200",
    result_count: LiteralString = "count(*)",
) -> tuple[LiteralString, dict[str, Any]]:
    """``query`` with its audit row written by the same statement. ``status`` and
    ``result_count`` are SQL over the query's rows (``count(*)``); ``order_by`` orders the rows
    again, since a CTE's order is not kept by the statement around it."""
    outer_order: LiteralString = f" ORDER BY {order_by}" if order_by else ""
    statement: LiteralString = (
        f"WITH result AS MATERIALIZED ({query}),"
        f" audit AS (INSERT INTO audit_log ({_AUDIT_COLUMNS})"
        " SELECT %(audit_key_id)s, %(audit_key_name)s, %(audit_method)s, %(audit_path)s,"
        f" %(audit_params)s, {status}, {result_count}, %(audit_client)s::inet,"
        " %(audit_purpose)s FROM result)"
        f" SELECT * FROM result{outer_order}"
    )
    return statement, params | _who_and_what(key, request)


def audited_page(
    query: LiteralString,
    params: dict[str, Any],
    key: ApiKey,
    request: Request,
    *,
    limit: int,
    order_by: LiteralString,
) -> tuple[LiteralString, dict[str, Any]]:
    """A page's ``query`` (``limit + 1`` rows, the extra one saying whether more follow) with
    its audit row, which counts at most ``limit`` results."""
    return audited(
        query,
        params | {"page_limit": limit},
        key,
        request,
        order_by=order_by,
        result_count="least(count(*), %(page_limit)s)",
    )


async def record_query(
    conn: AsyncConnection[Any],
    key: ApiKey | None,
    request: Request,
    status: int,
    result_count: int | None,
) -> None:
    await conn.execute(
        f"INSERT INTO audit_log ({_AUDIT_COLUMNS}) VALUES (%(audit_key_id)s, %(audit_key_name)s,"
        " %(audit_method)s, %(audit_path)s, %(audit_params)s, %(status)s, %(result_count)s,"
        " %(audit_client)s::inet, %(audit_purpose)s)",
        _who_and_what(key, request) | {"status": status, "result_count": result_count},
        prepare=True,  # one fixed statement: plan it once per connection
    )
