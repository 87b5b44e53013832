"""The Kafka loop wired to its steps, over a fake consumer: revokes during a hand-off."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from confluent_kafka import Consumer
from prometheus_client import CollectorRegistry

from alpr_core.events.avro import DecodedEvent, EventDecoder
from alpr_core.metrics import StorageMetrics
from alpr_core.storage.backoff import Backoff
from alpr_core.storage.batch_writer import BatchWriter
from alpr_core.storage.consumer import LoopSettings, StorageConsumer
from alpr_core.storage.dead_letter import DeadLetterPublisher
from alpr_core.storage.health import Liveness
from alpr_core.storage.sink import SinkResult
from tests.unit.storage.fakes import (
    TOPIC,
    FakeConsumer,
    FakeDeadLetters,
    FakeMessage,
    FakeTopicPartition,
    decoded,
)

Callback = Callable[[Any, list[FakeTopicPartition]], None]


class GatedSink:
    """Stores nothing until ``gate`` is set; records the offsets of what it wrote."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.written = 0

    def write(self, events: Sequence[DecodedEvent]) -> SinkResult:
        self.gate.wait(timeout=10)
        self.written += len(events)
        return SinkResult(len(events), 0)

    def close(self) -> None:
        pass


class Decoder:
    def decode(self, _value: bytes | None, _now: datetime) -> DecodedEvent:
        return decoded()


class GroupConsumer(FakeConsumer):
    """Assigns partitions 0 and 1 on subscribe; stops the loop once its batches are served."""

    def __init__(self, batches: list[list[FakeMessage]]) -> None:
        super().__init__(batches)
        self.stop: Callable[[], None] = lambda: None
        self.revoke: Callback = lambda _c, _p: None

    def subscribe(
        self, _topics: list[str], on_assign: Callback, on_revoke: Callback, on_lost: Callback
    ) -> None:
        self.revoke = on_revoke
        on_assign(self, [FakeTopicPartition(TOPIC, 0), FakeTopicPartition(TOPIC, 1)])

    def consume(self, count: int, timeout_s: float) -> list[FakeMessage]:
        if not self.batches:
            self.stop()
        return super().consume(count, timeout_s)

    def close(self) -> None:
        pass


def test_messages_fetched_for_a_partition_revoked_during_a_hand_off_are_never_committed() -> None:
    m = FakeMessage
    consumer = GroupConsumer([[m(0, 0), m(1, 0), m(0, 1), m(0, 2), m(1, 1), m(1, 2)]])
    sink = GatedSink()
    settings = LoopSettings(TOPIC, 2, 60.0, Backoff(0.01, 0.01), shutdown_grace_s=5.0)
    metrics, liveness = StorageMetrics(CollectorRegistry()), Liveness()
    writer = BatchWriter(
        sink, cast(DeadLetterPublisher, FakeDeadLetters()), metrics, settings.backoff, liveness
    )
    storage = StorageConsumer(
        cast(Consumer, consumer), cast(EventDecoder, Decoder()), writer, metrics, settings, liveness
    )
    consumer.stop = storage.request_stop
    after_revoke: list[int] = []

    def revoke_partition_1() -> None:  # the group takes partition 1 while the writer is busy
        sink.gate.set()
        consumer.revoke(consumer, [FakeTopicPartition(TOPIC, 1)])
        after_revoke.append(len(consumer.committed))

    consumer.on_poll = revoke_partition_1
    storage.run()

    later = consumer.committed[after_revoke[0] :]
    assert all((TOPIC, 1) not in offsets for offsets in later)
    assert {(TOPIC, 0): 3} in later or {(TOPIC, 0): 3} in consumer.committed
    assert sink.written == 4  # partition 1's offsets 1 and 2 were never batched
