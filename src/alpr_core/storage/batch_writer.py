"""Make batches durable in a background thread, one at a time, while the loop reads the next.

For each batch: queue its dead letters, write images and rows (retrying transient failures with
backoff), queue the rows the database refused as dead letters too, then wait for the dead
letters' delivery. The returned future completes only when all
of it is durable; the consume loop commits offsets after that, on its own thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import structlog

from alpr_core.metrics import StorageMetrics
from alpr_core.storage.backoff import Backoff
from alpr_core.storage.batch import Accepted, Rejected
from alpr_core.storage.dead_letter import DeadLetterPublisher
from alpr_core.storage.health import Liveness
from alpr_core.storage.sink import DetectionSink, SinkResult

log = structlog.get_logger("alpr.storage")
T = TypeVar("T")


class BatchWriter:
    def __init__(
        self,
        sink: DetectionSink,
        dead_letters: DeadLetterPublisher,
        metrics: StorageMetrics,
        backoff: Backoff,
        liveness: Liveness,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sink = sink
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._backoff = backoff
        self._liveness = liveness
        self._sleep = sleep
        self._clock = clock
        self._abandon = threading.Event()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="batch-writer")

    def submit(
        self, accepted: Sequence[Accepted], rejected: Sequence[Rejected]
    ) -> Future[SinkResult]:
        return self._thread.submit(self._write, list(accepted), list(rejected))

    def abandon(self) -> None:
        """Stop retrying: the batch in flight fails with its last TransientError (at shutdown)."""
        self._abandon.set()

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self._sink.close()

    def _write(self, accepted: list[Accepted], rejected: list[Rejected]) -> SinkResult:
        self._dead_letters.publish(rejected)
        result = self._retrying("store", self._sink.write, [entry.decoded for entry in accepted])
        refused = [
            Rejected(accepted[u.index].partition, accepted[u.index].message, u.error)
            for u in result.unstorable
        ]
        self._dead_letters.publish(refused)
        self._retrying("dead_letter", self._dead_letters.wait)
        self._liveness.waiting_for = None
        self._count(accepted, rejected, refused, result)
        return result

    def _count(
        self,
        accepted: list[Accepted],
        rejected: list[Rejected],
        refused: list[Rejected],
        result: SinkResult,
    ) -> None:
        for entry in refused:  # the consume loop counted the others as it decoded them
            self._metrics.processing_errors.labels(reason=entry.error.reason).inc()
        for entry in rejected + refused:
            self._metrics.dead_lettered.labels(reason=entry.error.reason).inc()
        self._metrics.database_writes.inc(result.rows_inserted)
        self._metrics.duplicates_skipped.inc(len(accepted) - len(refused) - result.rows_inserted)
        self._metrics.images_stored.inc(result.images_stored)
        self._metrics.cameras.record((e.decoded.event.camera_id for e in accepted), self._clock())

    def _retrying(self, step: str, fn: Callable[..., T], *args: Any) -> T:
        def on_failure(error: BaseException | None) -> None:
            self._metrics.retries.labels(step=step).inc()
            self._liveness.waiting_for = step
            log.warning("transient failure; will retry", step=step, error=str(error))

        retrying = self._backoff.retrying(self._sleep, self._abandon.is_set, on_failure)
        return retrying(fn, *args)
