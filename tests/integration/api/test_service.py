"""Health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psutil
import psycopg
from fastapi.testclient import TestClient

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from tests.integration.api.conftest import Keys, as_key
from tests.integration.conftest import wait_until


def test_health_and_ready_are_open(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "object_store": "ok"}}


def test_metrics_carry_the_seed_names(client: TestClient, keys: Keys) -> None:
    client.get("/plates?limit=1", headers=as_key(keys.viewer))
    body = client.get("/metrics").text
    assert 'http_requests_total{handler="/plates",method="GET",status="2xx"}' in body
    assert "http_request_duration_seconds_bucket" in body
    assert "http_requests_in_progress" in body


def test_the_openapi_document_describes_every_parameter(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    listing = document["paths"]["/plates"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert names == {
        "start_time",
        "end_time",
        "camera_id",
        "site",
        "min_confidence",
        "vehicle_type",
        "vehicle_make",
        "vehicle_model",
        "vehicle_color",
        "region",
        "direction",
        "limit",
        "cursor",
        "format",
    }
    assert all(p.get("description") for p in listing["parameters"])
    assert "X-API-Key" in str(document["components"]["securitySchemes"])
    assert client.get("/docs").status_code == 200


def test_a_query_held_past_the_statement_timeout_is_a_503_problem(
    settings: Settings, keys: Keys
) -> None:
    quick = settings.model_copy(
        update={"api": settings.api.model_copy(update={"statement_timeout_ms": 300})}
    )
    with TestClient(create_app(quick)) as client, psycopg.connect(settings.db.conninfo()) as lock:
        lock.execute("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE")  # held until the test ends
        response = client.get("/plates", headers=as_key(keys.viewer))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Query timed out"


def test_an_unreachable_database_is_a_503_problem_not_a_500(settings: Settings, keys: Keys) -> None:
    nowhere = settings.model_copy(
        update={
            "db": settings.db.model_copy(update={"port": 1, "connect_timeout_s": 1}),
            "api": settings.api.model_copy(update={"pool_timeout_s": 1.0}),
        }
    )
    with TestClient(create_app(nowhere)) as client:
        response = client.get("/plates", headers=as_key(keys.viewer))
    assert response.status_code == 503
    assert response.json()["title"] == "Database unavailable"
    assert response.headers["retry-after"] == "2"


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def api_process(settings: Settings, **env: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``alpr api`` in its own process, as deployed, with ``env`` on top of ``settings``."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {
        **os.environ,
        **settings.as_environment(),
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        **env,
    }
    api = subprocess.Popen([sys.executable, "-m", "alpr_core", "api"], env=environment)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(f"{base}/health"), 60, "the API")
        yield api, base
    finally:
        if api.poll() is None:
            api.kill()
        api.wait()


def test_several_worker_processes_serve_and_stop_cleanly(settings: Settings, keys: Keys) -> None:
    with api_process(settings, API_WORKERS="2") as (api, base):
        assert len(psutil.Process(api.pid).children()) >= 2
        for _ in range(10):
            response = httpx.get(f"{base}/plates?limit=1", headers=as_key(keys.viewer))
            assert response.status_code == 200
        api.send_signal(signal.SIGTERM)
        assert api.wait(timeout=30) == 0


def test_more_concurrent_requests_than_connections_all_succeed(
    settings: Settings, keys: Keys
) -> None:
    """Each request holds one connection at most, so a small pool makes requests wait their
    turn; a request holding one while waiting for a second would deadlock here."""

    async def burst(base: str) -> list[int]:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            calls = [client.get("/plates?limit=5", headers=as_key(keys.viewer)) for _ in range(24)]
            return [response.status_code for response in await asyncio.gather(*calls)]

    with api_process(settings, API_POOL_MAX_SIZE="2", API_POOL_TIMEOUT_S="10") as (_api, base):
        assert asyncio.run(burst(base)) == [200] * 24
