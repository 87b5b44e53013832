"""A shortened chaos run (bench/chaos): private servers, three consumers, HTTP ingest, poison and
replays, a consumer SIGKILLed and PostgreSQL stopped; every acknowledged read is accounted for."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.chaos import report
from bench.chaos.run import Options, run
from bench.chaos.servers import free_ports


@pytest.fixture
def state_dir() -> Iterator[Path]:
    """Outside pytest's private tmp tree: the postgres user must reach its data directory."""
    path = Path(tempfile.mkdtemp(prefix="alpr-chaos-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.chaos
@pytest.mark.timeout(420)  # a failing run waits out its drain timeouts, then reports
def test_a_short_chaos_run_accounts_for_every_read_exactly(state_dir: Path) -> None:
    options = Options(
        duration_s=60,
        rate_per_s=200,
        seed=7,
        faults=("kill_consumer", "postgres_stop"),
        state_dir=state_dir,
        ports=free_ports(),
        drain_timeout_s=60,
    )
    result = run(options)
    assert result.faults_done, "no fault was carried out"
    assert not [line for line in result.faults_done if line.startswith("FAILED")]
    assert result.exact, f"\n{report.table(result)}\n{report.details(result)}"
