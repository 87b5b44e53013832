"""The thin Kafka loop: poll, pause and resume, rebalances. The steps do the rest.

Messages go to the first step (decode → batch → write → commit). When a step raises
:class:`MessageRejected` (the writer is busy), the loop pauses its partitions and keeps polling,
so the group does not evict it, until the step is ready: that is the backpressure. The loop
tracks its assignment from the rebalance callbacks: a message fetched for a partition revoked
since is dropped, and the commit step commits only partitions owned now.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from alpr_core.errors import TransientError
from alpr_core.metrics import StorageMetrics
from alpr_core.storage.backoff import Backoff
from alpr_core.storage.health import Liveness
from alpr_core.storage.messages import Assignment, KafkaMessage, TopicPartitionKey, partition_key
from alpr_core.storage.steps import MessageRejected, Step

log = structlog.get_logger("alpr.storage")
_POLL_WHILE_WAITING_S = 0.2


@dataclass(frozen=True, slots=True)
class LoopSettings:
    topic: str
    batch_max_events: int
    batch_max_time_s: float
    backoff: Backoff
    shutdown_grace_s: float
    revoke_wait_s: float = 10.0
    # batches handed to the writer at once: one being stored while the one before has its
    # alerts recorded (docs/decisions.md#watchlist-matching)
    batches_in_flight: int = 2


class KafkaLoop:
    def __init__(
        self,
        consumer: Consumer,
        settings: LoopSettings,
        metrics: StorageMetrics,
        liveness: Liveness,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.consumer = consumer
        self.assignment = Assignment()
        self._settings = settings
        self._metrics = metrics
        self._liveness = liveness
        self._clock = clock
        self._first: Step[KafkaMessage] | None = None
        self._pending: deque[Message] = deque()  # fetched, not yet taken by the first step
        self._positions: dict[TopicPartitionKey, int] = {}
        self._paused = False
        self._in_callback = False
        self._stop = threading.Event()
        self._stop_requested_at: float | None = None

    # -- for the steps --------------------------------------------------------------------------

    def in_callback(self) -> bool:
        return self._in_callback

    def past_shutdown_grace(self) -> bool:
        if self._stop_requested_at is None:
            return False
        return self._clock() - self._stop_requested_at > self._settings.shutdown_grace_s

    def wait_paused(self, seconds: float, until: Callable[[], bool] | None = None) -> None:
        """Pause, then serve the group protocol (and rebalance callbacks) for ``seconds``."""
        self._pause()
        deadline = self._clock() + seconds
        while (remaining := deadline - self._clock()) > 0 and not (until and until()):
            self._liveness.beat()
            message = self.consumer.poll(min(remaining, _POLL_WHILE_WAITING_S))
            if message is not None:  # from a partition assigned while paused
                self._pending.append(message)

    # -- lifecycle ------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Finish the batch in flight, commit, and return from :meth:`run` (signal-safe)."""
        self._stop.set()

    def run(self, first: Step[KafkaMessage]) -> None:
        self._first = first
        self.consumer.subscribe(
            [self._settings.topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        log.info("consuming", topic=self._settings.topic)
        try:
            while not self._stop.is_set():
                self._step(first)
            self._finish(first)
        finally:
            first.close()
            self.consumer.close()
            log.info("stopped")

    def _step(self, first: Step[KafkaMessage]) -> None:
        self._liveness.beat()
        first.poll()
        if not self._pending:
            timeout_s = min(self._settings.batch_max_time_s, 1.0)
            # A rebalance callback may run inside consume() and filter the pending messages:
            # add what it returns only once it has returned.
            fetched = self.consumer.consume(self._settings.batch_max_events, timeout_s)
            self._pending.extend(fetched)
        if self._submit_pending(first):
            self._resume()

    def _finish(self, first: Step[KafkaMessage]) -> None:
        self._stop_requested_at = self._clock()
        try:
            first.join(None)
        except TransientError as error:
            log.error("stopping with the last batch not durable; uncommitted", error=str(error))

    # -- messages -------------------------------------------------------------------------------

    def _submit_pending(self, first: Step[KafkaMessage]) -> bool:
        """Give pending messages to ``first``; False when it is busy (then paused, polling)."""
        while self._pending:
            message = self._pending.popleft()  # before submit: a revoke may filter the deque
            error = message.error()
            if error is not None:
                self._on_message_error(error)
                continue
            key = partition_key(message)
            generation = self.assignment.generation(key)
            try:
                self._accept(first, message, key, generation)
            except MessageRejected as busy:
                if self.assignment.generation(key) == generation:
                    self._pending.appendleft(message)
                self.wait_paused(_POLL_WHILE_WAITING_S, busy.ready)
                return False
        return True

    def _accept(
        self,
        first: Step[KafkaMessage],
        message: Message,
        key: TopicPartitionKey,
        generation: int | None,
    ) -> None:
        """Submit ``message`` unless its partition was revoked since it was fetched.

        A step may poll while it works on the message (a registry or commit retry), and a
        rebalance there can revoke the partition and give it back: the new assignment starts
        at the committed offset, so the message in hand belongs to the old one. It is forgotten
        with the old assignment, and never sets the position to seek to: that would skip what
        the revoke dropped (docs/decisions.md#consume-steps).
        """
        if generation is None:
            return  # revoked since it was fetched: never batched, never committed
        first.submit(message)
        if self.assignment.generation(key) == generation:
            self._positions[key] = (message.offset() or 0) + 1
        elif key in self.assignment:  # revoked and given back while it was submitted
            first.forget([key])

    def _on_message_error(self, error: KafkaError) -> None:
        if error.fatal():
            raise KafkaException(error)
        self._metrics.processing_errors.labels(reason="kafka").inc()
        log.warning("consumer error", error=str(error))

    # -- pause and resume -----------------------------------------------------------------------

    def _pause(self) -> None:
        if not self._paused:
            self.consumer.pause(self.consumer.assignment())
            self._paused = True
            self._metrics.paused.set(1)

    def _resume(self) -> None:
        if not self._paused:
            return
        assignment = self.consumer.assignment()
        self.consumer.resume(assignment)
        self._paused = False
        self._metrics.paused.set(0)
        self._liveness.waiting_for = None
        self._seek_to_positions(assignment)

    def _seek_to_positions(self, assignment: Sequence[TopicPartition]) -> None:
        """Re-fetch from the first message not yet taken; prefetched messages were dropped."""
        held = {partition_key(m) for m in self._pending}
        for tp in assignment:
            key = (tp.topic, tp.partition)
            if key in self._positions and key not in held:
                self._seek(TopicPartition(tp.topic, tp.partition, self._positions[key]))

    def _seek(self, position: TopicPartition) -> None:
        try:
            self.consumer.seek(position)
        except KafkaException as error:
            log.warning("seek after resume failed", partition=position.partition, error=str(error))

    # -- rebalances -----------------------------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("partitions assigned", partitions=[p.partition for p in partitions])
        self.assignment.add(_keys(partitions))
        self._metrics.assigned_partitions.inc(len(partitions))
        if self._paused:
            consumer.pause(partitions)

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Commit what becomes durable within ``revoke_wait_s``; never poll in here."""
        log.info("partitions revoked", partitions=[p.partition for p in partitions])
        self._in_callback = True
        try:
            if self._first is not None:
                self._first.join(self._settings.revoke_wait_s)
        finally:
            self._in_callback = False
            self._forget(_keys(partitions))

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.warning("partitions lost", partitions=[p.partition for p in partitions])
        self._forget(_keys(partitions))

    def _forget(self, keys: list[TopicPartitionKey]) -> None:
        """Never batch nor commit again what was fetched from partitions no longer owned."""
        self.assignment.remove(keys)
        gone = set(keys)
        kept = [m for m in self._pending if partition_key(m) not in gone]
        self._pending.clear()  # in place: the loop may hold this deque across the callback
        self._pending.extend(kept)
        for key in gone:
            self._positions.pop(key, None)
        if self._first is not None:
            self._first.forget(keys)
        self._metrics.assigned_partitions.dec(len(keys))


def _keys(partitions: list[TopicPartition]) -> list[TopicPartitionKey]:
    return [(p.topic, p.partition) for p in partitions]
