from __future__ import annotations

import json
from typing import Any

from prometheus_client import CollectorRegistry

from alpr_core.metrics import StorageMetrics
from alpr_core.storage.health import Liveness, health_app


def _get(path: str, liveness: Liveness) -> tuple[str, bytes]:
    registry = CollectorRegistry()
    StorageMetrics(registry).messages_consumed.inc(3)
    status: list[str] = []

    def start_response(code: str, _headers: list[Any]) -> None:
        status.append(code)

    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "QUERY_STRING": ""}
    body = b"".join(health_app(registry, liveness)(environ, start_response))
    return status[0], body


def test_health_is_ok_while_the_loop_beats() -> None:
    status, body = _get("/health", Liveness(stall_after_s=60))
    assert status.startswith("200")
    assert json.loads(body)["status"] == "ok"


def test_health_is_503_when_the_loop_stalls() -> None:
    liveness = Liveness(stall_after_s=1.0)
    liveness.last_beat -= 5
    liveness.waiting_for = "store"
    status, body = _get("/health", liveness)
    assert status.startswith("503")
    assert json.loads(body) == {
        "status": "stalled",
        "last_loop_s_ago": json.loads(body)["last_loop_s_ago"],
        "waiting_for": "store",
    }


def test_other_paths_serve_the_metrics() -> None:
    status, body = _get("/metrics", Liveness())
    assert status.startswith("200")
    assert b"alpr_messages_consumed_total 3.0" in body
