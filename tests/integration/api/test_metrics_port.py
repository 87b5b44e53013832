"""API_METRICS_PORT: /metrics leaves the API's port for an internal one of its own."""

from __future__ import annotations

import socket

import httpx
import pytest
from fastapi.testclient import TestClient

from alpr_core.api.app import create_app
from alpr_core.config import Settings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_metrics_move_to_their_own_port(settings: Settings) -> None:
    port = _free_port()
    api = settings.api.model_copy(update={"metrics_port": port, "host": "127.0.0.1"})
    with TestClient(create_app(settings.model_copy(update={"api": api}))) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/metrics").status_code == 404
        internal = httpx.get(f"http://127.0.0.1:{port}/metrics")
        assert internal.status_code == 200
        assert 'http_requests_total{handler="/health"' in internal.text
    with pytest.raises(httpx.ConnectError):  # closed with the app
        httpx.get(f"http://127.0.0.1:{port}/metrics")
