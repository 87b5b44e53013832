"""The Prometheus config and alert rules, checked by Debian's promtool (infra/prometheus.sh)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.compose import REPO

PROMETHEUS_DIR = REPO / "monitoring/prometheus"
RULE_FILES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
ALERT_TESTS = PROMETHEUS_DIR / "tests/alerts_test.yml"
REQUIRED_ALERTS = {
    "ConsumerLagGrowing",
    "DeadLetterRateHigh",
    "ProcessingErrorRateHigh",
    "ApiErrorRateHigh",
    "ApiLatencyP99High",
    "TargetDown",
    "CameraSilent",
}


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("promtool")
    assert executable, "promtool is missing: run `infra/prometheus.sh install`"
    return subprocess.run(
        [executable, *map(str, args)], capture_output=True, text=True, check=False, timeout=120
    )


def alert_rules() -> list[dict[str, Any]]:
    groups = [yaml.safe_load(path.read_text())["groups"] for path in RULE_FILES]
    return [rule for group in groups for g in group for rule in g["rules"] if "alert" in rule]


def test_the_config_is_valid() -> None:
    result = promtool("check", "config", PROMETHEUS_DIR / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_are_valid() -> None:
    result = promtool("check", "rules", *RULE_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alert_rules_pass_their_unit_tests() -> None:
    result = promtool("test", "rules", ALERT_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_issues_alerts_exist_each_with_a_firing_and_a_quiet_case() -> None:
    names = {rule["alert"] for rule in alert_rules()}
    assert names >= REQUIRED_ALERTS
    cases = [
        case
        for test in yaml.safe_load(ALERT_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    ]
    for name in names:
        outcomes = {bool(case["exp_alerts"]) for case in cases if case["alertname"] == name}
        assert outcomes == {True, False}, f"{name} needs a case that fires and one that does not"


def test_promtool_catches_a_broken_rule(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("groups: [{name: x, rules: [{alert: X, expr: 'rate(up[5m]'}]}]\n")
    assert promtool("check", "rules", broken).returncode != 0
