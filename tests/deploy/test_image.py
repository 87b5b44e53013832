"""The Dockerfile and .dockerignore: multi-stage, slim, pinned, non-root, with a HEALTHCHECK,
and a build context without secrets. (No Docker engine here: the file is read, not built.)"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest

from tests.deploy.compose import REPO

DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def ignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str) -> bool:
    return any(
        fnmatch.fnmatch(path, pattern.removeprefix("**/"))
        or fnmatch.fnmatch(path.split("/", 1)[0], pattern)
        for pattern in ignore_patterns()
    )


def test_the_build_is_multi_stage_on_a_pinned_slim_base() -> None:
    base = dict(instructions())["ARG"].split("=", 1)[1]
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base)
    stages = [args for op, args in instructions() if op == "FROM"]
    assert len(stages) >= 2
    assert any("--from=build" in args for op, args in final_stage() if op == "COPY")


def test_the_runtime_stage_runs_as_a_non_root_user_with_a_healthcheck() -> None:
    final = dict(final_stage())
    assert final["USER"] not in {"root", "0", "0:0"}
    assert "healthcheck.py" in final["HEALTHCHECK"]
    assert final["ENTRYPOINT"] == '["alpr"]'


def test_the_build_uses_the_locked_dependencies_without_dev_tools() -> None:
    runs = [args for op, args in instructions() if op == "RUN" and "uv sync" in args]
    assert runs
    assert all("--locked" in run and "--no-dev" in run for run in runs)


@pytest.mark.parametrize(
    "path", [".env", ".env.production", ".git", ".venv", ".services", "tests", "bench"]
)
def test_secrets_and_local_state_stay_out_of_the_build_context(path: str) -> None:
    assert ignored(path)


def test_everything_the_build_copies_exists_and_is_in_the_context() -> None:
    copied = [
        source
        for op, args in instructions()
        if op == "COPY" and "--from=" not in args
        for source in args.split()[:-1]
    ]
    assert copied
    for source in copied:
        assert (REPO / source).exists(), source
        assert not ignored(source), f"{source} is excluded by .dockerignore"


def test_the_health_script_is_standard_library_only() -> None:
    source = Path(REPO / "docker/healthcheck.py").read_text()
    imports = re.findall(r"^(?:from|import) (\w+)", source, flags=re.MULTILINE)
    assert set(imports) <= {"__future__", "os", "sys", "urllib"}
