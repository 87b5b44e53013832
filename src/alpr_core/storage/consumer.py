"""The consume loop: take messages, decode, batch, flush durably, then commit.

Per batch, in order: rejected messages go to the dead-letter topic, images and rows are written,
the dead-letter deliveries are awaited, and only then are offsets committed. A transient failure
pauses the assigned partitions and retries with backoff, polling meanwhile so the consumer keeps
its group membership. Revoked partitions are flushed (or dropped, uncommitted) before they go.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import structlog
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    wait_exponential_jitter,
)

from alpr_core.errors import RejectedEvent, TransientError
from alpr_core.events.avro import DecodedEvent, EventDecoder
from alpr_core.metrics import StorageMetrics
from alpr_core.storage.batch import Batch
from alpr_core.storage.dead_letter import DeadLetterPublisher
from alpr_core.storage.health import Liveness
from alpr_core.storage.messages import TopicPartitionKey, partition_key
from alpr_core.storage.sink import DetectionSink

log = structlog.get_logger("alpr.storage")
T = TypeVar("T")


class RunStep(Protocol):
    """Runs one step of a flush: with retries while running, or once while partitions go."""

    def __call__(self, step: str, fn: Callable[..., T], /, *args: Any) -> T: ...


def _run_once(_step: str, fn: Callable[..., T], /, *args: Any) -> T:
    return fn(*args)


@dataclass(frozen=True, slots=True)
class LoopSettings:
    topic: str
    batch_max_events: int
    batch_max_time_s: float
    retry_initial_s: float
    retry_max_s: float
    shutdown_grace_s: float


class StorageConsumer:
    def __init__(
        self,
        consumer: Consumer,
        decoder: EventDecoder,
        sink: DetectionSink,
        dead_letters: DeadLetterPublisher,
        metrics: StorageMetrics,
        settings: LoopSettings,
        liveness: Liveness | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._consumer = consumer
        self._decoder = decoder
        self._sink = sink
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._settings = settings
        self._liveness = liveness or Liveness()
        self._clock = clock
        self._batch = Batch(settings.batch_max_events, settings.batch_max_time_s)
        self._held: list[Message] = []
        self._positions: dict[TopicPartitionKey, int] = {}
        self._paused = False
        self._flushing = False
        self._stop = threading.Event()
        self._stop_requested_at: float | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Finish the batch in flight, commit, and return from :meth:`run` (signal-safe)."""
        self._stop.set()

    def run(self) -> None:
        self._consumer.subscribe(
            [self._settings.topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        log.info("consuming", topic=self._settings.topic)
        try:
            while not self._stop.is_set():
                self._step()
            self._stop_requested_at = self._clock()
            self._flush()
        finally:
            self._consumer.close()
            log.info("stopped")

    def _step(self) -> None:
        self._liveness.beat()
        for message in self._take():
            self._accept(message)
            if self._batch.is_full():
                self._flush()
        if self._batch.is_due(self._clock()):
            self._flush()
        self._resume()

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
            log.warning(
                "event rejected",
                reason=str(rejected.reason),
                detail=rejected.detail,
                partition=message.partition(),
                offset=message.offset(),
            )
        self._batch.add(message, outcome, self._clock())

    def _decode(self, message: Message) -> DecodedEvent:
        return self._decoder.decode(message.value(), datetime.now(UTC))

    def _on_message_error(self, error: KafkaError) -> None:
        if error.fatal():
            raise KafkaException(error)
        self._metrics.processing_errors.labels(reason="kafka").inc()
        log.warning("consumer error", error=str(error))

    # -- flushing ----------------------------------------------------------------------------

    def _flush(self, run_step: RunStep | None = None) -> None:
        """Make the batch durable, then commit it; ``run_step`` defaults to retrying each step."""
        if not len(self._batch):
            return
        run_step = run_step or self._retrying
        started = self._clock()
        self._flushing = True
        try:
            self._write_batch(run_step)
        finally:
            self._flushing = False
        self._metrics.batch_size.observe(len(self._batch))
        self._metrics.batch_duration.observe(self._clock() - started)
        self._batch.clear()

    def _write_batch(self, run_step: RunStep) -> None:
        batch = self._batch
        self._dead_letters.publish(batch.rejected)
        result = run_step("store", self._sink.write, [a.decoded for a in batch.accepted])
        run_step("dead_letter", self._dead_letters.wait)
        for entry in batch.rejected:
            self._metrics.dead_lettered.labels(reason=entry.error.reason).inc()
        self._metrics.database_writes.inc(result.rows_inserted)
        self._metrics.duplicates_skipped.inc(len(batch.accepted) - result.rows_inserted)
        self._metrics.images_stored.inc(result.images_stored)
        run_step("commit", self._commit, dict(batch.next_offsets))

    def _commit(self, next_offsets: dict[TopicPartitionKey, int]) -> None:
        if not next_offsets:
            return
        offsets = [TopicPartition(t, p, o) for (t, p), o in next_offsets.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as error:
            kafka_error: KafkaError = error.args[0]
            if kafka_error.retriable():
                raise TransientError(f"commit: {kafka_error}") from error
            # The group moved on (rebalance): the data is durable and writes are idempotent, so
            # the new owner re-reading these messages stores nothing twice.
            log.warning("commit refused", error=str(kafka_error))
            return
        self._metrics.offsets_committed.inc()

    # -- retries, pausing and rebalances --------------------------------------------------------

    def _retrying(self, step: str, fn: Callable[..., T], /, *args: Any) -> T:
        """Run ``fn``; on :class:`TransientError`, pause and retry with backoff until it works."""
        try:
            return fn(*args)  # the fast path: no retry machinery per message
        except TransientError as error:
            self._on_failure(step, error)
            self._wait_paused(self._settings.retry_initial_s)
        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            wait=wait_exponential_jitter(
                multiplier=self._settings.retry_initial_s, max=self._settings.retry_max_s
            ),
            stop=self._give_up,
            sleep=self._wait_paused,
            before_sleep=lambda state: self._on_failure(
                step, state.outcome.exception() if state.outcome else None
            ),
            reraise=True,
        )
        return retrying(fn, *args)

    def _give_up(self, _state: RetryCallState) -> bool:
        if self._stop_requested_at is None:
            return False
        return self._clock() - self._stop_requested_at > self._settings.shutdown_grace_s

    def _on_failure(self, step: str, error: BaseException | None) -> None:
        self._metrics.retries.labels(step=step).inc()
        self._liveness.waiting_for = step
        log.warning("transient failure; paused, will retry", step=step, error=str(error))

    def _wait_paused(self, seconds: float) -> None:
        """Sleep for a backoff, paused, while serving the group protocol."""
        self._pause()
        deadline = self._clock() + seconds
        while (remaining := deadline - self._clock()) > 0:
            self._liveness.beat()
            message = self._consumer.poll(min(remaining, 0.5))
            if message is not None:
                self._held.append(message)

    def _pause(self) -> None:
        if not self._paused:
            self._consumer.pause(self._consumer.assignment())
            self._paused = True
            self._metrics.paused.set(1)

    def _resume(self) -> None:
        self._liveness.waiting_for = None
        if not self._paused:
            return
        assignment = self._consumer.assignment()
        self._consumer.resume(assignment)
        self._paused = False
        self._metrics.paused.set(0)
        self._seek_to_positions(assignment)

    def _seek_to_positions(self, assignment: Sequence[TopicPartition]) -> None:
        """Re-fetch from the first message not yet taken, whatever was prefetched before pausing."""
        held = {partition_key(m) for m in self._held}
        for tp in assignment:
            key = (tp.topic, tp.partition)
            if key in self._positions and key not in held:
                try:
                    self._consumer.seek(
                        TopicPartition(tp.topic, tp.partition, self._positions[key])
                    )
                except KafkaException as error:
                    log.warning(
                        "seek after resume failed", partition=tp.partition, error=str(error)
                    )

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("partitions assigned", partitions=[p.partition for p in partitions])
        if self._paused:
            consumer.pause(partitions)

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("partitions revoked", partitions=[p.partition for p in partitions])
        if not self._flushing:
            self._flush_once_before_revoke()
        self._forget([(p.topic, p.partition) for p in partitions])

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.warning("partitions lost", partitions=[p.partition for p in partitions])
        self._forget([(p.topic, p.partition) for p in partitions])

    def _flush_once_before_revoke(self) -> None:
        """Commit what is durable before the partitions go; never wait on a dependency here."""
        try:
            self._flush(_run_once)
        except TransientError as error:
            log.warning("could not flush before revoke; the new owner re-reads", error=str(error))

    def _forget(self, partitions: list[TopicPartitionKey]) -> None:
        self._batch.drop_partitions(partitions)
        gone = set(partitions)
        self._held = [m for m in self._held if partition_key(m) not in gone]
        for key in gone:
            self._positions.pop(key, None)
