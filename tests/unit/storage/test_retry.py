"""The one retry helper: fast path, backoff until it works, giving up at shutdown."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from alpr_core.errors import TransientError
from alpr_core.metrics import StorageMetrics
from alpr_core.storage.backoff import Backoff
from alpr_core.storage.health import Liveness
from alpr_core.storage.retry import Retry


class Flaky:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise TransientError("down")
        return "done"


def retry(registry: CollectorRegistry, waits: list[float], give_up: bool = False) -> Retry:
    backoff = Backoff(0.5, 4.0)
    return Retry(backoff, waits.append, lambda: give_up, StorageMetrics(registry), Liveness())


def test_a_call_that_works_is_not_retried() -> None:
    registry, waits = CollectorRegistry(), []  # type: ignore[var-annotated]
    assert retry(registry, waits)("store", Flaky(0)) == "done"
    assert waits == []


def test_transient_failures_are_retried_with_waits_and_counted_by_step() -> None:
    registry, waits = CollectorRegistry(), []  # type: ignore[var-annotated]
    flaky = Flaky(3)
    assert retry(registry, waits)("decode", flaky) == "done"
    assert flaky.calls == 4
    assert len(waits) == 3
    assert registry.get_sample_value("alpr_transient_failures_total", {"step": "decode"}) == 3


def test_giving_up_raises_the_last_transient_error() -> None:
    registry, waits = CollectorRegistry(), []  # type: ignore[var-annotated]
    with pytest.raises(TransientError):
        retry(registry, waits, give_up=True)("commit", Flaky(100))
