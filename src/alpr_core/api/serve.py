"""Run the API's uvicorn server until SIGINT or SIGTERM, then return normally.

uvicorn re-raises the signal it caught once it has shut down; with the default SIGTERM handler
that kills the process before ``finally`` blocks and ``atexit`` run (which stop the consumer
thread and the embedded PostgreSQL). Our own handlers make both signals a plain return.
"""

from __future__ import annotations

import signal
from types import FrameType

import uvicorn
from fastapi import FastAPI

from alpr_core.config import ApiSettings


def api_server(app: FastAPI, settings: ApiSettings) -> uvicorn.Server:
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None,
                            access_log=False)  # fmt: skip
    return uvicorn.Server(config)


def serve_workers(settings: ApiSettings) -> None:
    """``API_WORKERS`` processes behind one socket. uvicorn's supervisor forwards signals; each
    worker builds its app from the environment (``app.app_from_environment``)."""
    uvicorn.run(
        "alpr_core.api.app:app_from_environment", factory=True, host=settings.host,
        port=settings.port, workers=settings.workers, log_config=None, access_log=False,
    )  # fmt: skip


def serve_until_signalled(server: uvicorn.Server) -> None:
    def handle(_signum: int, _frame: FrameType | None) -> None:
        server.should_exit = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handle)
    server.run()
