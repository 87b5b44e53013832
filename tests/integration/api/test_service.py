"""Health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.api.conftest import Keys, as_key


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
    assert names == {"start_time", "end_time", "camera_id", "site", "min_confidence", "limit",
                     "cursor"}  # fmt: skip
    assert all(p.get("description") for p in listing["parameters"])
    assert "X-API-Key" in str(document["components"]["securitySchemes"])
    assert client.get("/docs").status_code == 200
