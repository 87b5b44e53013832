"""docker/healthcheck.py, the image's HEALTHCHECK, against a real HTTP server on loopback."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import ModuleType

import pytest

from tests.deploy.compose import REPO


def load_healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("healthcheck", REPO / "docker/healthcheck.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Answers(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 503)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("path", "exit_code"),
    [pytest.param("/health", 0, id="200 is healthy"), pytest.param("/stalled", 1, id="503 is not")],
)
def test_the_exit_code_follows_the_health_endpoint(
    monkeypatch: pytest.MonkeyPatch, server_url: str, path: str, exit_code: int
) -> None:
    monkeypatch.setenv("ALPR_HEALTH_URL", server_url + path)
    assert load_healthcheck().main() == exit_code


def test_nothing_listening_is_unhealthy(monkeypatch: pytest.MonkeyPatch) -> None:
    server = HTTPServer(("127.0.0.1", 0), Answers)
    port = server.server_port
    server.server_close()
    monkeypatch.setenv("ALPR_HEALTH_URL", f"http://127.0.0.1:{port}/health")
    assert load_healthcheck().main() == 1
