"""The storage service's HTTP port: ``/metrics`` for Prometheus and ``/health`` for probes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

StartResponse = Callable[..., Any]


@dataclass
class Liveness:
    """Updated by the consumer loop; read by ``/health``."""

    stall_after_s: float = 60.0
    last_beat: float = field(default_factory=time.monotonic)
    waiting_for: str | None = None

    def beat(self) -> None:
        self.last_beat = time.monotonic()

    def report(self) -> tuple[bool, dict[str, Any]]:
        age = time.monotonic() - self.last_beat
        healthy = age < self.stall_after_s
        body = {"status": "ok" if healthy else "stalled", "last_loop_s_ago": round(age, 3)}
        if self.waiting_for:
            body["waiting_for"] = self.waiting_for
        return healthy, body


def health_app(registry: CollectorRegistry, liveness: Liveness) -> Callable[..., Iterable[bytes]]:
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/health":
            return metrics(environ, start_response)  # type: ignore[no-any-return]
        healthy, body = liveness.report()
        start_response(
            "200 OK" if healthy else "503 Service Unavailable",
            [("Content-Type", "application/json")],
        )
        return [json.dumps(body).encode()]

    return app


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_health(
    host: str, port: int, registry: CollectorRegistry, liveness: Liveness
) -> _ThreadingServer:
    """Serve in a daemon thread; call ``shutdown()`` on the result to stop."""
    server = make_server(
        host, port, health_app(registry, liveness), _ThreadingServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="health-http", daemon=True).start()
    return server
