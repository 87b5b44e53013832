"""The console's only way to data: requests to the query API's own routes, made in-process with
the operator's session, so that every rule, scope and audit row of the API applies unchanged
(docs/decisions.md#console). The requests go through the app, not the network: the plate text of
a search travels in no URL that a proxy or server could log."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import Request

from alpr_core.api.deps import SESSION_COOKIE, request_client

_BASE = "http://console.internal"


async def api_get(
    request: Request, path: str, params: dict[str, Any] | None = None
) -> httpx.Response:
    """GET ``path`` of this app as the session of ``request``, from its client's address."""
    transport = httpx.ASGITransport(
        app=request.app, client=(request_client(request) or "127.0.0.1", 0)
    )
    session = request.cookies.get(SESSION_COOKIE, "")
    async with httpx.AsyncClient(
        transport=transport, base_url=_BASE, cookies={SESSION_COOKIE: session}
    ) as client:
        return await client.get(path, params=params)
