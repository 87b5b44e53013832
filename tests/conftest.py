"""Suite-wide rule: a skipped test fails the run. A missing server is a failure, not a pass."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

_skipped: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Property tests run derandomized ('ci', the default), so a run is repeatable; the 'long'
    profile tries many more examples: ``HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest
    tests/unit -k properties``."""
    base = hypothesis_settings(
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    hypothesis_settings.register_profile("ci", base, derandomize=True, max_examples=60)
    hypothesis_settings.register_profile("long", base, max_examples=3_000)
    hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """A CLI test configures logging onto its runner's stream, closed once it returns: later
    tests log through structlog's defaults instead."""
    yield
    structlog.reset_defaults()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped:
        terminalreporter.write_line(
            f"FAILED: {len(_skipped)} test(s) skipped, and a skip counts as a failure here: "
            + ", ".join(_skipped),
            red=True,
        )
