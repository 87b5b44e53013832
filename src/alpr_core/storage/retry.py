"""The one retry helper: run a step, and on :class:`TransientError` retry it with backoff.

The caller says how to wait (the consume loop pauses and polls Kafka; the batch writer sleeps)
and when to give up (only when shutting down).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import structlog

from alpr_core.errors import TransientError
from alpr_core.metrics import StorageMetrics
from alpr_core.storage.backoff import Backoff
from alpr_core.storage.health import Liveness

log = structlog.get_logger("alpr.storage")
T = TypeVar("T")


class Retry:
    def __init__(
        self,
        backoff: Backoff,
        wait: Callable[[float], None],
        give_up: Callable[[], bool],
        metrics: StorageMetrics,
        liveness: Liveness,
    ) -> None:
        self._backoff = backoff
        self._wait = wait
        self._give_up = give_up
        self._metrics = metrics
        self._liveness = liveness

    def __call__(self, step: str, fn: Callable[[], T]) -> T:
        """``fn()``, retried until it works or the caller gives up (then its error is raised)."""
        try:
            return fn()  # the fast path: no retry machinery per call
        except TransientError as error:
            self._on_failure(step, error)
        self._wait(self._backoff.initial_s)
        retrying = self._backoff.retrying(
            self._wait, self._give_up, lambda error: self._on_failure(step, error)
        )
        result: T = retrying(fn)
        self._liveness.waiting_for = None
        return result

    def _on_failure(self, step: str, error: BaseException | None) -> None:
        self._metrics.retries.labels(step=step).inc()
        self._liveness.waiting_for = step
        log.warning("transient failure; will retry", step=step, error=str(error))
