"""The dead-letter topic: each rejected message with its original bytes and headers saying why."""

from __future__ import annotations

from collections.abc import Sequence

from confluent_kafka import KafkaError, Message, Producer

from alpr_core.errors import TransientError
from alpr_core.storage.batch import Rejected
from alpr_core.storage.messages import header_list

HEADER_REASON = "alpr.dlq.reason"
HEADER_DETAIL = "alpr.dlq.detail"
HEADER_EXCEPTION = "alpr.dlq.exception"  # the exception's class, when one caused the rejection
HEADER_TOPIC = "alpr.dlq.original.topic"
HEADER_PARTITION = "alpr.dlq.original.partition"
HEADER_OFFSET = "alpr.dlq.original.offset"
HEADER_TIMESTAMP = "alpr.dlq.original.timestamp_ms"
_MAX_DETAIL_BYTES = 1024


def dead_letter_headers(entry: Rejected) -> list[tuple[str, str | bytes | None]]:
    message = entry.message
    own: list[tuple[str, str | bytes | None]] = [
        (HEADER_REASON, str(entry.error.reason).encode()),
        (HEADER_DETAIL, entry.error.detail.encode()[:_MAX_DETAIL_BYTES]),
        (HEADER_TOPIC, (message.topic() or "").encode()),
        (HEADER_PARTITION, str(message.partition()).encode()),
        (HEADER_OFFSET, str(message.offset()).encode()),
        (HEADER_TIMESTAMP, str(message.timestamp()[1]).encode()),
    ]
    if entry.error.cause is not None:
        own.append((HEADER_EXCEPTION, entry.error.cause.encode()))
    return header_list(message.headers()) + own


class DeadLetterPublisher:
    """Publishes rejected messages and waits until the broker has them all."""

    def __init__(self, producer: Producer, topic: str, flush_timeout_s: float = 10.0) -> None:
        self._producer = producer
        self._topic = topic
        self._flush_timeout_s = flush_timeout_s
        self._failed: list[Rejected] = []

    def publish(self, entries: Sequence[Rejected]) -> None:
        """Queue ``entries`` for the dead-letter topic; :meth:`wait` makes them durable."""
        for entry in entries:
            self._produce(entry)

    def wait(self) -> None:
        """Wait until the broker has every queued entry.

        Raises :class:`TransientError` when some are not delivered yet; entries that failed are
        queued again, so calling ``wait`` again retries exactly those.
        """
        remaining = self._producer.flush(self._flush_timeout_s)
        failed, self._failed = self._failed, []
        for entry in failed:
            self._produce(entry)
        if remaining or failed:
            raise TransientError(f"dead-letter topic: {remaining} in flight, {len(failed)} failed")

    def _produce(self, entry: Rejected) -> None:
        def on_delivery(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                self._failed.append(entry)

        self._producer.produce(
            self._topic,
            key=entry.message.key(),
            value=entry.message.value(),
            headers=dead_letter_headers(entry),
            on_delivery=on_delivery,
        )
