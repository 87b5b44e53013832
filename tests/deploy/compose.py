"""Read docker-compose.yml as `docker compose` would: YAML, then ${VAR} interpolation from .env.

Only the interpolation forms the Compose Specification defines are handled: ``$$`` (a literal
``$``), ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DEV_OVERRIDE_FILE = REPO / "docker-compose.dev.yml"
ENV_EXAMPLE = REPO / ".env.example"

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariableError(ValueError):
    """A ``${VAR:?message}`` whose variable is not set: compose refuses to start."""


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines; comments and blank lines ignored (as compose reads .env)."""
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def commented_names(path: Path) -> set[str]:
    """Variables documented in ``path`` as ``# NAME=default``."""
    return set(re.findall(r"^# ([A-Z][A-Z0-9_]*)=", path.read_text(), flags=re.MULTILINE))


def variables_used(text: str) -> set[str]:
    return {m["name"] or m["bare"] for m in _VARIABLE.finditer(text) if not m["escaped"]}


def interpolate(text: str, env: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["name"] or match["bare"]
        op, arg = match["op"] or "", match["arg"] or ""
        value = env.get(name)
        unset = value is None or (op.startswith(":") and value == "")
        if unset and op.endswith("?"):
            raise MissingVariableError(f"{name}: {arg}")
        if unset and op.endswith("-"):
            return arg
        return value or ""

    return _VARIABLE.sub(replace, text)


def _interpolate_tree(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: _interpolate_tree(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolate_tree(item, env) for item in node]
    return node


def load_compose(env: dict[str, str], path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """A compose file with anchors merged and variables interpolated from ``env``."""
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    return dict(_interpolate_tree(document, env))


def merge_compose(base: Any, override: Any) -> Any:
    """``docker compose -f base -f override``: mappings merge key by key, sequences (``ports``,
    ``expose``, ...) append what they lack, and any other value of the override wins."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge_compose(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return base + [item for item in override if item not in base]
    return override
