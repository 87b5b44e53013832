"""Loki, Promtail and the Alloy alternative: what the issue asks of their configs. Neither runs
here, so the files are read: storage and retention, where logs go, which fields become labels."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.deploy.compose import REPO

MONITORING = REPO / "monitoring"


def load(path: str) -> dict[str, Any]:
    document = yaml.safe_load((MONITORING / path).read_text())
    assert isinstance(document, dict)
    return document


def test_loki_keeps_7_days_on_the_filesystem_with_a_tsdb_index() -> None:
    loki = load("loki/loki-config.yaml")
    assert loki["limits_config"]["retention_period"] == "168h"
    assert loki["compactor"]["retention_enabled"] is True
    schema = loki["schema_config"]["configs"][-1]
    assert (schema["store"], schema["object_store"]) == ("tsdb", "filesystem")
    assert loki["server"]["http_listen_port"] == 3100


def test_promtail_ships_container_logs_and_json_files_to_loki() -> None:
    promtail = load("promtail/promtail-config.yaml")
    assert promtail["clients"] == [{"url": "http://loki:3100/loki/api/v1/push"}]
    jobs = {job["job_name"]: job for job in promtail["scrape_configs"]}
    assert jobs["docker"]["docker_sd_configs"][0]["host"] == "unix:///var/run/docker.sock"
    assert jobs["alpr-files"]["static_configs"][0]["labels"]["__path__"] == "/var/log/alpr/*.log"
    for job in jobs.values():
        stages = {key: value for stage in job["pipeline_stages"] for key, value in stage.items()}
        assert "level" in stages["json"]["expressions"]
        assert set(stages["labels"]) == {"level", "service"}


def test_the_docker_job_labels_lines_with_the_compose_service() -> None:
    docker = load("promtail/promtail-config.yaml")["scrape_configs"][0]
    targets = {rule["target_label"]: rule["source_labels"] for rule in docker["relabel_configs"]}
    assert targets["service"] == ["__meta_docker_container_label_com_docker_compose_service"]


def test_alloy_does_what_promtail_does() -> None:
    alloy = (MONITORING / "alloy/config.alloy").read_text()
    assert 'url = "http://loki:3100/loki/api/v1/push"' in alloy
    assert '"__path__" = "/var/log/alpr/*.log"' in alloy
    assert "__meta_docker_container_label_com_docker_compose_service" in alloy
    assert re.search(r"stage\.labels \{\s*values = \{ level = \"\", service = \"\" \}", alloy)
    assert alloy.count("{") == alloy.count("}")


def test_promtail_and_alloy_are_in_compose_and_alloy_is_opt_in() -> None:
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    assert "./monitoring/promtail:/etc/promtail:ro" in services["promtail"]["volumes"]
    assert services["alloy"]["profiles"] == ["alloy"]
    assert "/etc/alloy/config.alloy" in services["alloy"]["command"]
