"""Write one audit row per plate query: who, when, which parameters, how many results."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from alpr_core.db.api_keys import ApiKey


async def record_query(
    conn: AsyncConnection[Any],
    key: ApiKey,
    request: Request,
    status: int,
    result_count: int | None,
) -> None:
    params = {name: request.query_params.getlist(name) for name in request.query_params}
    await conn.execute(
        "INSERT INTO audit_log (key_id, key_name, method, path, params, status, result_count)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (key.id, key.name, request.method, request.url.path, Jsonb(params), status,
         result_count),
        prepare=True,  # one fixed statement: plan it once per connection
    )  # fmt: skip
