"""The Kafka loop wired to its steps, over fake consumers: revokes during a hand-off, and a
partition taken and given back while a message is in hand."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from confluent_kafka import Consumer
from prometheus_client import CollectorRegistry

from alpr_core.errors import TransientError
from alpr_core.events.avro import DecodedEvent, EventDecoder
from alpr_core.events.model import PlateEvent
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
from tests.unit.storage.partition_log import PartitionLog, position_of

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

    def raise_alerts(self, durable: Sequence[PlateEvent]) -> None:
        pass

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
    settings = LoopSettings(
        TOPIC, 2, 60.0, Backoff(0.01, 0.01), shutdown_grace_s=5.0, batches_in_flight=1
    )
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


class PositionSink:
    """Records the (partition, offset) of every event it stores; the first write waits for
    ``release``."""

    def __init__(self) -> None:
        self.stored: set[tuple[int, int]] = set()
        self.release = threading.Event()

    def write(self, events: Sequence[DecodedEvent]) -> SinkResult:
        self.release.wait(timeout=10)
        self.stored.update(divmod(uuid.UUID(str(e.event.event_id)).int, 1000) for e in events)
        return SinkResult(len(events), 0)

    def raise_alerts(self, durable: Sequence[PlateEvent]) -> None:
        pass

    def close(self) -> None:
        pass


class PositionDecoder:
    """Each message becomes an event whose id encodes its position; ``flaky`` fails once."""

    def __init__(self, flaky: bytes) -> None:
        self.flaky: bytes | None = flaky

    def decode(self, value: bytes | None, _now: datetime) -> DecodedEvent:
        if value == self.flaky:
            self.flaky = None
            raise TransientError("registry down")
        partition, offset = position_of(value)
        return decoded(event_id=str(uuid.UUID(int=partition * 1000 + offset)))


def _storage(log: PartitionLog, sink: PositionSink, decoder: PositionDecoder) -> StorageConsumer:
    """The storage consumer over ``log``, in batches of two; a revoke waits 50 ms at most."""
    settings = LoopSettings(
        TOPIC, 2, 60.0, Backoff(0.01, 0.01), shutdown_grace_s=5.0, revoke_wait_s=0.05
    )
    metrics, liveness = StorageMetrics(CollectorRegistry()), Liveness()
    writer = BatchWriter(
        sink, cast(DeadLetterPublisher, FakeDeadLetters()), metrics, settings.backoff, liveness
    )
    storage = StorageConsumer(
        cast(Consumer, log), cast(EventDecoder, decoder), writer, metrics, settings, liveness
    )
    log.when_drained = storage.request_stop
    return storage


def test_a_partition_revoked_and_given_back_mid_message_loses_nothing() -> None:
    """While message 1:2 waits for the registry, partition 1 is revoked (its batch not yet
    durable) and given back. The new assignment starts at the committed offset, so the message
    in hand belongs to the old one: taking it would commit, or seek, past 1:1, which was dropped
    with the revoke and never stored."""
    sink = PositionSink()
    log = PartitionLog(partitions=2, size=6, stored=sink.stored)
    storage = _storage(log, sink, PositionDecoder(flaky=b"1:2"))

    def give_partition_1_back(group: PartitionLog) -> None:
        group.revoke([1])
        group.assign([1])

    log.poll_actions = [give_partition_1_back, lambda _group: sink.release.set()]
    storage.run()

    assert not log.poll_actions, "the rebalance never happened"
    assert sink.stored == {(p, o) for p in range(2) for o in range(6)}
    assert log.overcommits == []
    assert log.committed == {0: 6, 1: 6}


def test_a_revoke_inside_consume_loses_none_of_the_messages_it_returns() -> None:
    """librdkafka serves rebalance callbacks inside ``consume()``, which then returns messages of
    the partitions still owned: those are read, stored and committed like any other."""
    sink = PositionSink()
    sink.release.set()
    log = PartitionLog(partitions=3, size=4, stored=sink.stored)
    storage = _storage(log, sink, PositionDecoder(flaky=b""))
    log.consume_actions = [lambda _group: None, lambda group: group.revoke([0])]
    storage.run()

    assert not log.consume_actions, "the rebalance never happened"
    assert {(1, o) for o in range(4)} | {(2, o) for o in range(4)} <= sink.stored
    assert log.overcommits == []
    assert (log.committed[1], log.committed[2]) == (4, 4)
