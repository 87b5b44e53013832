"""Debian's Prometheus with the project's own config, rewritten for loopback, scrapes the running
storage service and query API: the series appear and every rule evaluates without error."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from alpr_core.config import Settings
from tests.integration.conftest import REPO, running_storage, wait_until
from tests.integration.helpers import running_api, simulate

PROMETHEUS_DIR = REPO / "monitoring/prometheus"
EVENTS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def loopback_config(ports: dict[str, int], workdir: Path) -> Path:
    """prometheus.yml with each job pointed at 127.0.0.1; jobs with nothing running here
    (cAdvisor, pilot) dropped; rules read from the repository; 1 s intervals."""
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(PROMETHEUS_DIR / rules) for rules in config["rule_files"]]
    jobs = [job for job in config["scrape_configs"] if job["job_name"] in ports]
    for job in jobs:
        for discovery in ("dns_sd_configs", "static_configs", "file_sd_configs"):
            job.pop(discovery, None)
        job["static_configs"] = [{"targets": [f"127.0.0.1:{ports[job['job_name']]}"]}]
    config["scrape_configs"] = jobs
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@contextmanager
def running_prometheus(config: Path, port: int) -> Iterator[str]:
    executable = shutil.which("prometheus")
    assert executable, "prometheus is missing: run `infra/prometheus.sh install`"
    args = [
        executable,
        f"--config.file={config}",
        f"--storage.tsdb.path={config.parent / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    log = (config.parent / "prometheus.log").open("wb")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(url), timeout_s=60, what="prometheus ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def query(prometheus: str, promql: str) -> list[dict[str, Any]]:
    encoded = urllib.parse.quote(promql)
    result: list[dict[str, Any]] = get_json(f"{prometheus}/api/v1/query?query={encoded}")["data"][
        "result"
    ]
    return result


def targets_up(prometheus: str) -> bool:
    active = get_json(f"{prometheus}/api/v1/targets")["data"]["activeTargets"]
    return len(active) == 3 and all(target["health"] == "up" for target in active)


def rules(prometheus: str) -> list[dict[str, Any]]:
    groups = get_json(f"{prometheus}/api/v1/rules")["data"]["groups"]
    return [rule for group in groups for rule in group["rules"]]


def all_evaluated(prometheus: str) -> bool:
    return all(not rule["lastEvaluation"].startswith("0001") for rule in rules(prometheus))


@pytest.fixture
def loopback_settings(settings: Settings) -> Settings:
    storage = settings.storage.model_copy(update={"metrics_host": "127.0.0.1"})
    return settings.model_copy(update={"storage": storage})


def test_prometheus_scrapes_our_services_and_evaluates_every_rule(
    loopback_settings: Settings, tmp_path: Path
) -> None:
    settings = loopback_settings
    api_port, prometheus_port = free_port(), free_port()
    with (
        running_storage(settings, serve_http=True) as storage,
        running_api(settings, api_port) as api,
    ):
        simulate(settings, EVENTS)
        wait_until(lambda: storage.metric("alpr_database_writes_total") >= EVENTS, what="stored")
        urllib.request.urlopen(f"{api}/health", timeout=10).close()
        assert storage.service.server is not None
        ports = {
            "prometheus": prometheus_port,
            "kafka-consumer": storage.service.server.server_port,
            "query-api": api_port,
        }
        config = loopback_config(ports, tmp_path)
        with running_prometheus(config, prometheus_port) as prometheus:
            wait_until(lambda: targets_up(prometheus), timeout_s=60, what="all targets up")
            wait_until(lambda: all_evaluated(prometheus), timeout_s=30, what="rules evaluated")

            consumed = query(prometheus, 'alpr_messages_consumed_total{job="kafka-consumer"}')
            assert float(consumed[0]["value"][1]) >= EVENTS
            recorded = "alpr:camera_last_event_timestamp_seconds:max"
            wait_until(lambda: bool(query(prometheus, recorded)), timeout_s=30, what=recorded)
            requests = query(prometheus, 'http_requests_total{job="query-api", handler="/health"}')
            assert float(requests[0]["value"][1]) >= 1
            assert query(prometheus, "http_request_duration_highr_seconds_bucket")
            broken = [rule["name"] for rule in rules(prometheus) if rule["health"] != "ok"]
            assert not broken
            assert len(rules(prometheus)) >= 10
