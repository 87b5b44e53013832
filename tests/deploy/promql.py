"""PromQL in the dashboards and rules: find the expressions, parse them with promtool, and name the
metrics they read, to compare with what our services really export."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.compose import REPO

DASHBOARDS = sorted((REPO / "monitoring/grafana/dashboards").glob("*.json"))
RULE_FILES = sorted((REPO / "monitoring/prometheus/rules").glob("*.yml"))
EXTERNAL_METRICS = REPO / "tests/deploy/data/external_metrics.txt"

_KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
}
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()")


def _panels(panels: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_exprs(path: Path) -> list[str]:
    """The Prometheus expressions of one dashboard's panels."""
    board = json.loads(path.read_text())
    return [
        target["expr"]
        for panel in _panels(board["panels"])
        for target in panel.get("targets", [])
        if (target.get("datasource") or panel.get("datasource") or {}).get("type") == "prometheus"
    ]


def rule_exprs() -> list[str]:
    groups = [g for path in RULE_FILES for g in yaml.safe_load(path.read_text())["groups"]]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def recorded_names() -> set[str]:
    groups = [g for path in RULE_FILES for g in yaml.safe_load(path.read_text())["groups"]]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


def metric_names(expr: str) -> set[str]:
    """Metric names an expression selects (functions, keywords, labels and durations left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|`[^`]*`', "", expr)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)
    text = _GROUPING.sub(" ", text)
    return {name for name in _NAME.findall(text) if name.lower() not in _KEYWORDS}


def external_metrics() -> set[str]:
    lines = EXTERNAL_METRICS.read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def exposed_names(exposition: str) -> set[str]:
    """Every series name a /metrics page can carry, samples or not (a labelled metric with no
    child yet has only its # TYPE line)."""
    names = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            suffixes = ("_bucket", "_sum", "_count") if kind == "histogram" else ("",)
            names |= {name + suffix for suffix in suffixes}
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def promtool_parses(exprs: list[str], workdir: Path) -> subprocess.CompletedProcess[str]:
    """`promtool check rules` on the expressions as recording rules: it parses each one."""
    rules = [{"record": f"dashboard:expr_{i}", "expr": expr} for i, expr in enumerate(exprs)]
    path = workdir / "dashboard-exprs.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    executable = shutil.which("promtool")
    assert executable, "promtool is missing: run `infra/prometheus.sh install`"
    return subprocess.run(
        [executable, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
