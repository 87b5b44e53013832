"""The consume loop: take messages, decode, batch, hand batches to the writer, commit offsets.

While the batch writer makes one batch durable in its thread, this loop reads and decodes the
next. Offsets of a batch are committed here, on the consumer's own thread, only after the writer
reports the batch durable. When the next batch is ready and the writer is still busy (a slow or
unavailable store), the loop pauses its partitions and keeps polling, so the group does not evict
it, until the writer is done: that is the backpressure. Revoked partitions are committed first
when their data is durable in time, else left uncommitted for their new owner to re-read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from alpr_core.errors import RejectedEvent, TransientError
from alpr_core.events.avro import DecodedEvent, EventDecoder
from alpr_core.metrics import StorageMetrics
from alpr_core.storage.backoff import Backoff
from alpr_core.storage.batch import Batch
from alpr_core.storage.batch_writer import BatchWriter
from alpr_core.storage.health import Liveness
from alpr_core.storage.messages import TopicPartitionKey, partition_key
from alpr_core.storage.sink import SinkResult

log = structlog.get_logger("alpr.storage")
T = TypeVar("T")
_POLL_WHILE_WAITING_S = 0.2


@dataclass(frozen=True, slots=True)
class LoopSettings:
    topic: str
    batch_max_events: int
    batch_max_time_s: float
    backoff: Backoff
    shutdown_grace_s: float
    revoke_wait_s: float = 10.0


@dataclass(slots=True)
class InFlight:
    batch: Batch
    result: Future[SinkResult]
    submitted_at: float


class StorageConsumer:
    def __init__(
        self,
        consumer: Consumer,
        decoder: EventDecoder,
        writer: BatchWriter,
        metrics: StorageMetrics,
        settings: LoopSettings,
        liveness: Liveness | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._consumer = consumer
        self._decoder = decoder
        self._writer = writer
        self._metrics = metrics
        self._settings = settings
        self._liveness = liveness or Liveness()
        self._clock = clock
        self._batch = self._new_batch()
        self._in_flight: InFlight | None = None
        self._held: list[Message] = []
        self._positions: dict[TopicPartitionKey, int] = {}
        self._paused = False
        self._in_callback = False
        self._stop = threading.Event()
        self._stop_requested_at: float | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Finish the batch in flight, commit, and return from :meth:`run` (signal-safe)."""
        self._stop.set()

    def run(self) -> None:
        self._consumer.subscribe(
            [self._settings.topic],
            on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost,
        )  # fmt: skip
        log.info("consuming", topic=self._settings.topic)
        try:
            while not self._stop.is_set():
                self._step()
            self._finish()
        finally:
            self._writer.close()
            self._consumer.close()
            log.info("stopped")

    def _step(self) -> None:
        self._liveness.beat()
        self._complete_if_written()
        for message in self._take():
            self._accept(message)
            if self._batch.is_full():
                self._hand_off()
        if self._batch.is_due(self._clock()):
            self._hand_off()
        self._resume()

    def _finish(self) -> None:
        self._stop_requested_at = self._clock()
        try:
            self._hand_off()
            self._await_in_flight()
        except TransientError as error:
            log.error("stopping with the last batch not durable; it stays uncommitted",
                      error=str(error))  # fmt: skip

    def _take(self) -> list[Message]:
        if self._held:
            held, self._held = self._held, []
            return held
        timeout_s = min(self._settings.batch_max_time_s, 1.0)
        messages: list[Message] = self._consumer.consume(max(self._batch.room(), 1), timeout_s)
        return messages

    # -- one message -------------------------------------------------------------------------

    def _accept(self, message: Message) -> None:
        error = message.error()
        if error is not None:
            self._on_message_error(error)
            return
        self._metrics.messages_consumed.inc()
        self._positions[partition_key(message)] = (message.offset() or 0) + 1
        outcome: DecodedEvent | RejectedEvent
        try:
            outcome = self._retrying("decode", self._decode, message)
        except RejectedEvent as rejected:
            outcome = rejected
            self._metrics.processing_errors.labels(reason=rejected.reason).inc()
            log.warning("event rejected", reason=str(rejected.reason), detail=rejected.detail,
                        partition=message.partition(), offset=message.offset())  # fmt: skip
        self._batch.add(message, outcome, self._clock())

    def _decode(self, message: Message) -> DecodedEvent:
        return self._decoder.decode(message.value(), datetime.now(UTC))

    def _on_message_error(self, error: KafkaError) -> None:
        if error.fatal():
            raise KafkaException(error)
        self._metrics.processing_errors.labels(reason="kafka").inc()
        log.warning("consumer error", error=str(error))

    # -- batches: hand off, await, commit ----------------------------------------------------

    def _new_batch(self) -> Batch:
        return Batch(self._settings.batch_max_events, self._settings.batch_max_time_s)

    def _hand_off(self) -> None:
        """Give the batch to the writer, once the previous one is durable and committed."""
        if not len(self._batch):
            return
        self._await_in_flight()
        batch, self._batch = self._batch, self._new_batch()
        result = self._writer.submit(batch.accepted, batch.rejected)
        self._in_flight = InFlight(batch, result, self._clock())

    def _await_in_flight(self) -> None:
        """Wait, paused and polling, until the batch in flight is durable; then commit it."""
        while self._in_flight is not None and not self._in_flight.result.done():
            if self._past_shutdown_grace():
                self._writer.abandon()
            self._pause()
            self._poll_while_waiting(_POLL_WHILE_WAITING_S, until=self._in_flight.result.done)
        self._complete_if_written()

    def _complete_if_written(self) -> None:
        in_flight = self._in_flight
        if in_flight is None or not in_flight.result.done():
            return
        self._in_flight = None
        in_flight.result.result()  # re-raises what the writer could not recover from
        self._commit_offsets(in_flight.batch.next_offsets)
        self._metrics.batch_size.observe(len(in_flight.batch))
        self._metrics.batch_duration.observe(self._clock() - in_flight.submitted_at)

    def _commit_offsets(self, next_offsets: dict[TopicPartitionKey, int]) -> None:
        if self._in_callback:  # no polling inside a rebalance callback: one attempt only
            self._commit(dict(next_offsets))
        else:
            self._retrying("commit", self._commit, dict(next_offsets))

    def _commit(self, next_offsets: dict[TopicPartitionKey, int]) -> None:
        if not next_offsets:
            return
        offsets = [TopicPartition(t, p, o) for (t, p), o in next_offsets.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as error:
            kafka_error: KafkaError = error.args[0]
            if kafka_error.retriable() and not self._in_callback:
                raise TransientError(f"commit: {kafka_error}") from error
            # The group moved on (rebalance): the data is durable and writes are idempotent, so
            # the new owner re-reading these messages stores nothing twice.
            log.warning("commit refused", error=str(kafka_error))
            return
        self._metrics.offsets_committed.inc()

    # -- waiting on the consumer's thread: retries, pause and resume --------------------------

    def _retrying(self, step: str, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn``; on :class:`TransientError`, wait paused (polling), retry until it works."""
        try:
            return fn(*args)  # the fast path: no retry machinery per message
        except TransientError as error:
            self._on_failure(step, error)

        def wait(seconds: float) -> None:
            self._pause()
            self._poll_while_waiting(seconds)

        wait(self._settings.backoff.initial_s)
        retrying = self._settings.backoff.retrying(
            wait, self._past_shutdown_grace, lambda error: self._on_failure(step, error)
        )
        return retrying(fn, *args)

    def _past_shutdown_grace(self) -> bool:
        if self._stop_requested_at is None:
            return False
        return self._clock() - self._stop_requested_at > self._settings.shutdown_grace_s

    def _on_failure(self, step: str, error: BaseException | None) -> None:
        self._metrics.retries.labels(step=step).inc()
        self._liveness.waiting_for = step
        log.warning("transient failure; paused, will retry", step=step, error=str(error))

    def _poll_while_waiting(self, seconds: float, until: Callable[[], bool] | None = None) -> None:
        """Serve the group protocol (and rebalance callbacks) without taking messages."""
        deadline = self._clock() + seconds
        while (remaining := deadline - self._clock()) > 0 and not (until and until()):
            self._liveness.beat()
            message = self._consumer.poll(min(remaining, _POLL_WHILE_WAITING_S))
            if message is not None:  # from a partition assigned while paused
                self._held.append(message)

    def _pause(self) -> None:
        if not self._paused:
            self._consumer.pause(self._consumer.assignment())
            self._paused = True
            self._metrics.paused.set(1)

    def _resume(self) -> None:
        if not self._paused:
            return
        assignment = self._consumer.assignment()
        self._consumer.resume(assignment)
        self._paused = False
        self._metrics.paused.set(0)
        self._liveness.waiting_for = None
        self._seek_to_positions(assignment)

    def _seek_to_positions(self, assignment: Sequence[TopicPartition]) -> None:
        """Re-fetch from the first message not yet taken; prefetched messages were dropped."""
        held = {partition_key(m) for m in self._held}
        for tp in assignment:
            key = (tp.topic, tp.partition)
            if key in self._positions and key not in held:
                try:
                    self._consumer.seek(
                        TopicPartition(tp.topic, tp.partition, self._positions[key])
                    )
                except KafkaException as error:
                    log.warning("seek after resume failed", partition=tp.partition,
                                error=str(error))  # fmt: skip

    # -- rebalances ----------------------------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("partitions assigned", partitions=[p.partition for p in partitions])
        self._metrics.assigned_partitions.inc(len(partitions))
        if self._paused:
            consumer.pause(partitions)

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("partitions revoked", partitions=[p.partition for p in partitions])
        self._in_callback = True
        try:
            self._write_before_revoke()
        finally:
            self._in_callback = False
        self._forget([(p.topic, p.partition) for p in partitions])
        self._metrics.assigned_partitions.dec(len(partitions))

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.warning("partitions lost", partitions=[p.partition for p in partitions])
        self._forget([(p.topic, p.partition) for p in partitions])
        self._metrics.assigned_partitions.dec(len(partitions))

    def _write_before_revoke(self) -> None:
        """Commit what becomes durable within ``revoke_wait_s``; never poll in here."""
        deadline = self._clock() + self._settings.revoke_wait_s
        for _ in range(2):  # the batch in flight, then the one being filled
            if self._in_flight is not None:
                try:
                    self._in_flight.result.result(timeout=max(deadline - self._clock(), 0))
                except (FutureTimeout, TransientError):
                    log.warning("not durable before revoke; the new owner re-reads")
                    return
            self._complete_if_written()
            if self._in_flight is None and len(self._batch):
                self._hand_off()

    def _forget(self, partitions: list[TopicPartitionKey]) -> None:
        """Never commit offsets of partitions this consumer no longer owns."""
        self._batch.drop_partitions(partitions)
        if self._in_flight is not None:
            self._in_flight.batch.drop_partitions(partitions)
        gone = set(partitions)
        self._held = [m for m in self._held if partition_key(m) not in gone]
        for key in gone:
            self._positions.pop(key, None)
