"""``http_requests_in_progress``: HTTP requests being served now, by method."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge
from starlette.types import ASGIApp, Receive, Scope, Send


class InProgressMiddleware:
    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self._app = app
        self._gauge = Gauge(
            "http_requests_in_progress",
            "HTTP requests being served now.",
            ["method"],
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        with self._gauge.labels(method=scope["method"]).track_inprogress():
            await self._app(scope, receive, send)
