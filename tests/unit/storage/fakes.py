"""Fakes for the storage steps' unit tests: messages, a consumer, a sink, the dead-letter topic."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from alpr_core.errors import RejectedEvent, RejectReason, TransientError
from alpr_core.events.avro import DecodedEvent
from alpr_core.events.model import PlateEvent
from alpr_core.events.parse import parse_event
from alpr_core.storage.batch import Rejected
from alpr_core.storage.messages import Headers, TopicPartitionKey
from alpr_core.storage.sink import SinkResult, Unstorable
from tests.unit.factories import LIMITS, NOW, record

TOPIC = "plates"


@dataclass
class FakeMessage:
    _partition: int
    _offset: int
    _topic: str = TOPIC
    _value: bytes | None = b"x"

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes | None:
        return None

    def value(self) -> bytes | None:
        return self._value

    def headers(self) -> Headers | None:
        return None

    def timestamp(self) -> tuple[int, int]:
        return (1, 0)

    def error(self) -> None:
        return None


def decoded(camera_id: str = "cam-001", event_id: str | None = None) -> DecodedEvent:
    changes: dict[str, Any] = {"camera_id": camera_id}
    if event_id:
        changes["event_id"] = event_id
    return DecodedEvent(parse_event(record(**changes), LIMITS, NOW), schema_id=1)


BAD = RejectedEvent(RejectReason.UNDECODABLE, "garbage")


@dataclass
class FakeSink:
    """Stores every event not listed in ``refuse`` (index → reason); ``fail`` times transiently."""

    refuse: dict[int, RejectReason] = field(default_factory=dict)
    already_stored: int = 0
    fail: int = 0
    alerts_fail: int = 0
    writes: list[int] = field(default_factory=list)
    alerted: list[int] = field(default_factory=list)  # reads handed to the matcher, per batch

    def write(self, events: Sequence[DecodedEvent]) -> SinkResult:
        if self.fail:
            self.fail -= 1
            raise TransientError("database down")
        self.writes.append(len(events))
        refused = tuple(
            Unstorable(i, RejectedEvent(reason, "refused")) for i, reason in self.refuse.items()
        )
        inserted = len(events) - len(refused) - self.already_stored
        durable = tuple(e.event for i, e in enumerate(events) if i not in self.refuse)
        return SinkResult(inserted, 0, refused, durable)

    def raise_alerts(self, durable: Sequence[PlateEvent]) -> None:
        if self.alerts_fail:
            self.alerts_fail -= 1
            raise TransientError("database down")
        self.alerted.append(len(durable))

    def close(self) -> None:
        pass


@dataclass
class FakeDeadLetters:
    published: list[Rejected] = field(default_factory=list)

    def publish(self, entries: Sequence[Rejected]) -> None:
        self.published.extend(entries)

    def wait(self) -> None:
        pass


@dataclass
class FakeTopicPartition:
    topic: str
    partition: int
    offset: int = -1001


class FakeConsumer:
    """Serves ``batches`` from consume(); runs ``on_poll`` (a rebalance) at the next poll()."""

    def __init__(self, batches: Iterable[list[FakeMessage]]) -> None:
        self.batches = list(batches)
        self.committed: list[dict[TopicPartitionKey, int]] = []
        self.on_poll: Callable[[], None] | None = None
        self.paused = False

    def consume(self, _count: int, _timeout_s: float) -> list[FakeMessage]:
        return self.batches.pop(0) if self.batches else []

    def poll(self, _timeout_s: float) -> None:
        if self.on_poll is not None:
            callback, self.on_poll = self.on_poll, None
            callback()

    def commit(self, offsets: list[FakeTopicPartition], asynchronous: bool) -> None:
        self.committed.append({(tp.topic, tp.partition): tp.offset for tp in offsets})

    def assignment(self) -> list[FakeTopicPartition]:
        return []

    def pause(self, _partitions: object) -> None:
        self.paused = True

    def resume(self, _partitions: object) -> None:
        self.paused = False

    def seek(self, _position: object) -> None:
        pass
