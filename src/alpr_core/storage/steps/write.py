"""Write step: hand batches to the background writer, a few at a time (by default one being
stored while the one before has its alerts recorded), and pass each batch's offsets on to the
commit step, in order, once the writer reports it durable."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import structlog

from alpr_core.errors import TransientError
from alpr_core.metrics import StorageMetrics
from alpr_core.storage.batch import Batch
from alpr_core.storage.batch_writer import BatchWriter
from alpr_core.storage.messages import TopicPartitionKey
from alpr_core.storage.results import Stored
from alpr_core.storage.steps import MessageRejected, Step

log = structlog.get_logger("alpr.storage")
Offsets = dict[TopicPartitionKey, int]
WaitPaused = Callable[[float, Callable[[], bool]], None]
_POLL_WHILE_WAITING_S = 0.2


@dataclass(slots=True)
class InFlight:
    offsets: Offsets  # a copy: the writer thread reads the batch itself
    size: int
    result: Future[Stored]
    submitted_at: float


class WriteStep:
    def __init__(
        self,
        writer: BatchWriter,
        next_step: Step[Offsets],
        metrics: StorageMetrics,
        wait_paused: WaitPaused,
        past_grace: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
        in_flight: int = 2,
    ) -> None:
        self._writer = writer
        self._max_in_flight = in_flight
        self._next = next_step
        self._metrics = metrics
        self._wait_paused = wait_paused
        self._past_grace = past_grace
        self._clock = clock
        self._in_flight: deque[InFlight] = deque()  # oldest first

    def submit(self, batch: Batch) -> None:
        self.poll()
        if len(self._in_flight) >= self._max_in_flight:
            raise MessageRejected(self._in_flight[0].result.done)
        future = self._writer.submit(batch)
        self._in_flight.append(
            InFlight(dict(batch.next_offsets), len(batch), future, self._clock())
        )

    def poll(self) -> None:
        """Pass on the offsets of the durable batches at the head, in order."""
        while self._in_flight and self._in_flight[0].result.done():
            in_flight = self._in_flight.popleft()
            in_flight.result.result()  # re-raises what the writer could not recover from
            self._next.submit(in_flight.offsets)
            self._metrics.batch_size.observe(in_flight.size)
            self._metrics.batch_duration.observe(self._clock() - in_flight.submitted_at)

    def join(self, timeout_s: float | None) -> None:
        if timeout_s is None:
            self._await_polling()
        elif not self._await_blocking(timeout_s):
            return
        self.poll()
        self._next.join(timeout_s)

    def forget(self, partitions: Iterable[TopicPartitionKey]) -> None:
        gone = set(partitions)
        for in_flight in self._in_flight:
            offsets = in_flight.offsets
            in_flight.offsets = {k: v for k, v in offsets.items() if k not in gone}
        self._next.forget(gone)

    def close(self) -> None:
        self._writer.close()
        self._next.close()

    def _await_polling(self) -> None:
        """Wait, paused and polling (a revoke may complete them meanwhile), until every batch in
        flight is durable."""
        while self._in_flight and not (last := self._in_flight[-1]).result.done():
            if self._past_grace():
                self._writer.abandon()
            self._wait_paused(_POLL_WHILE_WAITING_S, last.result.done)

    def _await_blocking(self, timeout_s: float) -> bool:
        """Wait without polling (inside a rebalance callback); False if not all durable in time.
        Batches finish in order, so the last one done means all are."""
        if not self._in_flight:
            return True
        deadline = self._clock() + timeout_s
        for in_flight in list(self._in_flight):
            try:
                in_flight.result.result(timeout=max(deadline - self._clock(), 0.0))
            except (FutureTimeout, TransientError):
                log.warning("not durable before revoke; the new owner re-reads")
                return False
        return True
