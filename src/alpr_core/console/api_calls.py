"""The console's only way to data: requests to the query API's own routes, made in-process with
the operator's session, so that every rule, scope and audit row of the API applies unchanged
(docs/decisions.md#console). The requests go through the app, not the network: the plate text of
a search travels in no URL that a proxy or server could log."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import Request

from alpr_core.api.deps import CSRF_HEADER, SESSION_COOKIE, request_client
from alpr_core.db.console_sessions import Session

_BASE = "http://console.internal"


async def api_get(
    request: Request, path: str, params: dict[str, Any] | None = None
) -> httpx.Response:
    """GET ``path`` of this app as the session of ``request``, from its client's address."""
    return await _call(request, "GET", path, params=params)


async def api_post(request: Request, session: Session, path: str, **body: Any) -> httpx.Response:
    """POST to ``path`` as the session, with its CSRF token (the console has checked the form's);
    ``body``: httpx's ``json=``, or ``content=`` with ``headers=``, and ``params=``."""
    headers = {**body.pop("headers", {}), CSRF_HEADER: session.csrf_token}
    return await _call(request, "POST", path, headers=headers, **body)


async def _call(request: Request, method: str, path: str, **arguments: Any) -> httpx.Response:
    transport = httpx.ASGITransport(
        app=request.app, client=(request_client(request) or "127.0.0.1", 0)
    )
    session = request.cookies.get(SESSION_COOKIE, "")
    async with httpx.AsyncClient(
        transport=transport, base_url=_BASE, cookies={SESSION_COOKIE: session}
    ) as client:
        return await client.request(method, path, **arguments)
