"""Batch step: gather decoded messages and pass them on when the batch is full or old enough."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable

from alpr_core.storage.batch import Batch
from alpr_core.storage.messages import Assignment, TopicPartitionKey, partition_key
from alpr_core.storage.steps import MessageRejected, Step
from alpr_core.storage.steps.decode import Decoded


class BatchStep:
    def __init__(
        self,
        max_events: int,
        max_time_s: float,
        next_step: Step[Batch],
        assignment: Assignment,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_events = max_events
        self._max_time_s = max_time_s
        self._next = next_step
        self._assignment = assignment
        self._clock = clock
        self._batch = self._new_batch()

    def submit(self, item: Decoded) -> None:
        if self._batch.is_due(self._clock()):
            self._flush()  # raises MessageRejected while the writer is busy
        message, outcome = item
        if partition_key(message) not in self._assignment:
            return  # revoked while it was decoded: its new owner reads it
        self._batch.add(message, outcome, self._clock())
        if self._batch.is_full():
            self._try_flush()

    def poll(self) -> None:
        self._next.poll()
        if self._batch.is_due(self._clock()):
            self._try_flush()

    def join(self, timeout_s: float | None) -> None:
        started = self._clock()
        self._next.join(timeout_s)  # the batch in flight first, so this one can follow it
        if len(self._batch):
            self._try_flush()
            left_s = None if timeout_s is None else max(timeout_s - (self._clock() - started), 0)
            self._next.join(left_s)

    def forget(self, partitions: Iterable[TopicPartitionKey]) -> None:
        self._batch.drop_partitions(partitions)
        self._next.forget(partitions)

    def close(self) -> None:
        self._next.close()

    def _new_batch(self) -> Batch:
        return Batch(self._max_events, self._max_time_s)

    def _flush(self) -> None:
        self._next.submit(self._batch)
        self._batch = self._new_batch()

    def _try_flush(self) -> None:
        with contextlib.suppress(MessageRejected):  # kept, and passed on at a later poll
            self._flush()
