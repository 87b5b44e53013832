"""Decode step: raw bytes → a validated event, or the rejection that says why not.

:func:`decode_or_reject` is shared with HTTP ingest; :class:`DecodeStep` is its Kafka form,
retrying registry outages on the loop's thread and passing each outcome to the batch step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import structlog

from alpr_core.errors import RejectedEvent
from alpr_core.events.avro import DecodedEvent, EventDecoder
from alpr_core.metrics import EventRecorder
from alpr_core.storage.messages import KafkaMessage, TopicPartitionKey, partition_key
from alpr_core.storage.retry import Retry
from alpr_core.storage.steps import Step

log = structlog.get_logger("alpr.storage")
Outcome = DecodedEvent | RejectedEvent
Decoded = tuple[KafkaMessage, Outcome]


def decode_or_reject(decode: Callable[[], DecodedEvent], recorder: EventRecorder) -> Outcome:
    """The event ``decode`` makes, or its rejection, counted; TransientError propagates."""
    try:
        return decode()
    except RejectedEvent as rejected:
        recorder.rejected(rejected.reason)
        return rejected


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DecodeStep:
    def __init__(
        self,
        decoder: EventDecoder,
        retry: Retry,
        recorder: EventRecorder,
        next_step: Step[Decoded],
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._decoder = decoder
        self._retry = retry
        self._recorder = recorder
        self._next = next_step
        self._now = now
        self._carried: Decoded | None = None  # decoded, refused by the next step for now

    def submit(self, message: KafkaMessage) -> None:
        if self._carried is None or self._carried[0] is not message:
            self._carried = (message, self._decode(message))
        self._next.submit(self._carried)
        self._carried = None

    def poll(self) -> None:
        self._next.poll()

    def join(self, timeout_s: float | None) -> None:
        self._next.join(timeout_s)

    def forget(self, partitions: Iterable[TopicPartitionKey]) -> None:
        if self._carried is not None and partition_key(self._carried[0]) in set(partitions):
            self._carried = None
        self._next.forget(partitions)

    def close(self) -> None:
        self._next.close()

    def _decode(self, message: KafkaMessage) -> Outcome:
        self._recorder.received()
        outcome = decode_or_reject(lambda: self._retried(message), self._recorder)
        if isinstance(outcome, RejectedEvent):
            log.warning(
                "event rejected",
                reason=str(outcome.reason),
                detail=outcome.detail,
                partition=message.partition(),
                offset=message.offset(),
            )
        return outcome

    def _retried(self, message: KafkaMessage) -> DecodedEvent:
        return self._retry("decode", lambda: self._decoder.decode(message.value(), self._now()))
