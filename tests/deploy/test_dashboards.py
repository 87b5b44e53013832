"""The Grafana dashboards: generated from code, provisioned, and every query sound.

Each PromQL expression must parse (promtool) and read only metrics that exist: those the storage
service and the API export on their /metrics pages (served here by the services' own code), our
recording rules, and the short documented list of cAdvisor and Prometheus metrics.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.jobs.alert_dispatch import DeliveryMetrics
from alpr_core.metrics import StorageMetrics
from alpr_core.storage.health import Liveness, serve_health
from alpr_dashboards.__main__ import as_json, dashboards
from tests.deploy.compose import REPO
from tests.deploy.promql import (
    DASHBOARDS,
    dashboard_exprs,
    exposed_names,
    external_metrics,
    metric_names,
    promtool_parses,
    recorded_names,
)

DESIGN_TITLES = {"ALPR Overview", "System Performance", "Kafka & Database", "Logs Explorer"}
GRAFANA = REPO / "monitoring/grafana"
METRIC_DASHBOARDS = [path for path in DASHBOARDS if path.stem != "alpr-logs"]  # logs: LogQL


@pytest.fixture(scope="module")
def storage_metrics_page() -> Iterator[str]:
    """The storage service's /metrics, served by its own HTTP server with its own metrics."""
    registry = CollectorRegistry()
    StorageMetrics(registry)
    DeliveryMetrics(registry)  # build_storage registers the alert dispatcher's metrics too
    server = serve_health("127.0.0.1", 0, registry, Liveness())
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            yield response.read().decode()
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def api_metrics_page() -> str:
    """The API's /metrics after one request (no lifespan: /metrics needs no database)."""
    client = TestClient(create_app(Settings.load()))
    client.get("/health")
    return client.get("/metrics").text


@pytest.fixture(scope="module")
def known_metrics(storage_metrics_page: str, api_metrics_page: str) -> set[str]:
    exported = exposed_names(storage_metrics_page) | exposed_names(api_metrics_page)
    return exported | recorded_names() | external_metrics()


def test_the_four_seed_dashboards_exist_with_unique_uids() -> None:
    boards = [json.loads(path.read_text()) for path in DASHBOARDS]
    assert {board["title"] for board in boards} == DESIGN_TITLES
    assert len({board["uid"] for board in boards}) == len(boards)


def test_the_json_is_what_the_code_generates() -> None:
    """Edit monitoring/grafana/alpr_dashboards and run scripts/dashboards, never the JSON."""
    generated = {f"{board.build().uid}.json": as_json(board) for board in dashboards()}
    committed = {path.name: path.read_text() for path in DASHBOARDS}
    assert committed == generated


def test_every_promql_expression_parses(tmp_path: Path) -> None:
    exprs = [expr for path in DASHBOARDS for expr in dashboard_exprs(path)]
    assert len(exprs) > 30
    result = promtool_parses(exprs, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_parse_check_catches_a_broken_expression(tmp_path: Path) -> None:
    assert promtool_parses(["sum(rate(up[5m])"], tmp_path).returncode != 0


@pytest.mark.parametrize("path", METRIC_DASHBOARDS, ids=lambda path: path.stem)
def test_every_metric_a_dashboard_reads_is_exported(path: Path, known_metrics: set[str]) -> None:
    names = {name for expr in dashboard_exprs(path) for name in metric_names(expr)}
    assert names
    assert names <= known_metrics, f"unknown: {sorted(names - known_metrics)}"


def test_the_metric_check_knows_our_metrics_from_the_live_pages(known_metrics: set[str]) -> None:
    for name in (
        "alpr_camera_events_total",
        "alpr_batch_duration_seconds_bucket",
        "http_requests_total",
        "http_request_duration_highr_seconds_bucket",
    ):
        assert name in known_metrics
    assert "alpr_not_a_metric_total" not in known_metrics


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        pytest.param("up", {"up"}, id="bare name"),
        pytest.param(
            'sum by (le) (rate(x_bucket{job="a", le!="1"}[5m]))', {"x_bucket"}, id="labels"
        ),
        pytest.param("time() - a:b:max > on() group_left() c", {"a:b:max", "c"}, id="matching"),
        pytest.param('count(ALERTS{alertstate="firing"}) or vector(0)', {"ALERTS"}, id="or"),
    ],
)
def test_metric_names_are_read_from_expressions(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_datasources_are_provisioned_with_the_uids_the_dashboards_use() -> None:
    provisioned = yaml.safe_load((GRAFANA / "provisioning/datasources/datasources.yml").read_text())
    by_uid = {source["uid"]: source for source in provisioned["datasources"]}
    assert by_uid["prometheus"]["url"] == "http://prometheus:9090"
    assert by_uid["loki"]["url"] == "http://loki:3100"
    used = {
        (target.get("datasource") or {}).get("uid")
        for path in DASHBOARDS
        for panel in json.loads(path.read_text())["panels"]
        for target in panel.get("targets", [])
    }
    assert used <= set(by_uid)


def test_the_dashboard_provider_reads_the_mounted_folder() -> None:
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/dashboards.yml").read_text())
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./monitoring/grafana/dashboards:{providers['providers'][0]['options']['path']}:ro" in (
        mounts
    )


def test_grafana_logs_in_with_credentials_from_env() -> None:
    environment = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["grafana"][
        "environment"
    ]
    assert environment["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
