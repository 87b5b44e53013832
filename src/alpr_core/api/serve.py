"""Run the API's uvicorn server until SIGINT or SIGTERM, then return normally.

uvicorn re-raises the signal it caught once it has shut down; with the default SIGTERM handler
that kills the process before ``finally`` blocks and ``atexit`` run (which stop the consumer
thread and the embedded PostgreSQL). Our own handlers make both signals a plain return.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

from alpr_core.config import ApiSettings

MAX_HEADER_BYTES = 16 * 1024  # a request's line and headers, at most


def server_options(settings: ApiSettings) -> dict[str, Any]:
    """What every API server runs with: past ``API_LIMIT_CONCURRENCY`` connections and requests
    at once it answers 503, and an idle keep-alive connection is closed after
    ``API_TIMEOUT_KEEP_ALIVE_S``. Slow clients are the TLS proxy's to cut off."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "limit_concurrency": settings.limit_concurrency,
        "timeout_keep_alive": settings.timeout_keep_alive_s,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "proxy_headers": False,  # the client address is ours to work out (client_address.py)
    }


def api_server(app: FastAPI, settings: ApiSettings) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, **server_options(settings)))


def serve_workers(settings: ApiSettings) -> None:
    """``API_WORKERS`` processes behind one socket. uvicorn's supervisor forwards signals; each
    worker builds its app from the environment (``app.app_from_environment``)."""
    uvicorn.run(
        "alpr_core.api.app:app_from_environment",
        factory=True,
        workers=settings.workers,
        **server_options(settings),
    )


def serve_until_signalled(server: uvicorn.Server) -> None:
    def handle(_signum: int, _frame: FrameType | None) -> None:
        server.should_exit = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handle)
    server.run()
