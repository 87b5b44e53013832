"""A batch of consumed messages: accepted events, rejected messages, and the offsets they cover."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from alpr_core.errors import RejectedEvent
from alpr_core.events.avro import DecodedEvent
from alpr_core.storage.messages import KafkaMessage, TopicPartitionKey, partition_key


@dataclass(frozen=True, slots=True)
class Accepted:
    partition: TopicPartitionKey
    message: KafkaMessage  # kept for the dead-letter topic, should the database refuse the row
    decoded: DecodedEvent


@dataclass(frozen=True, slots=True)
class Rejected:
    partition: TopicPartitionKey
    message: KafkaMessage
    error: RejectedEvent


@dataclass(slots=True)
class Batch:
    """Flushes when it holds ``max_events`` messages or is ``max_time_s`` old."""

    max_events: int
    max_time_s: float
    started_at: float | None = None
    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    next_offsets: dict[TopicPartitionKey, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.accepted) + len(self.rejected)

    def add(self, message: KafkaMessage, outcome: DecodedEvent | RejectedEvent, now: float) -> None:
        key = partition_key(message)
        if self.started_at is None:
            self.started_at = now
        if isinstance(outcome, RejectedEvent):
            self.rejected.append(Rejected(key, message, outcome))
        else:
            self.accepted.append(Accepted(key, message, outcome))
        self.next_offsets[key] = (message.offset() or 0) + 1

    def is_full(self) -> bool:
        return len(self) >= self.max_events

    def is_due(self, now: float) -> bool:
        if self.is_full():
            return True
        return self.started_at is not None and now - self.started_at >= self.max_time_s

    def room(self) -> int:
        return max(self.max_events - len(self), 0)

    def drop_partitions(self, partitions: Iterable[TopicPartitionKey]) -> None:
        """Forget messages of partitions this consumer lost; their new owner re-reads them."""
        gone = set(partitions)
        self.accepted = [entry for entry in self.accepted if entry.partition not in gone]
        self.rejected = [entry for entry in self.rejected if entry.partition not in gone]
        self.next_offsets = {k: v for k, v in self.next_offsets.items() if k not in gone}

    def clear(self) -> None:
        self.started_at = None
        self.accepted.clear()
        self.rejected.clear()
        self.next_offsets.clear()
