"""Everything the load sent and what each send was answered: the expected side of the accounting."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class GoodEvent:
    channel: str  # kafka or http
    version: int
    image_sha256: str | None  # of the first image sent for it


@dataclass(slots=True)
class Ledger:
    good: dict[str, GoodEvent] = field(default_factory=dict)
    kafka_positions: dict[str, tuple[int, int]] = field(default_factory=dict)  # (partition, offset)
    poison_offsets: dict[tuple[int, int], str] = field(default_factory=dict)  # (partition, offset)
    poison_event_ids: dict[str, str] = field(default_factory=dict)  # event_id -> kind
    poison_sent: Counter[str] = field(default_factory=Counter)  # "kafka:kind" -> acknowledged
    http_poison_answers: Counter[str] = field(default_factory=Counter)  # "kind status"
    http_poison_accepted: list[str] = field(default_factory=list)
    http_good_rejected: list[str] = field(default_factory=list)
    replays: Counter[str] = field(default_factory=Counter)
    replay_images: dict[str, set[str]] = field(default_factory=dict)  # event_id -> sha256s
    unacknowledged: Counter[str] = field(default_factory=Counter)
    samples: dict[str, float] = field(default_factory=dict)  # event_id -> produced at (monotonic)
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (produced at, seconds)
    fault_windows: list[tuple[float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acknowledge_good(
        self, event_id: str, event: GoodEvent, position: tuple[int, int] | None = None
    ) -> None:
        with self.lock:
            self.good.setdefault(event_id, event)
            if position is not None:
                self.kafka_positions.setdefault(event_id, position)

    def where(self, event_id: str) -> str:
        """``event_id`` with its Kafka partition:offset, when it went through Kafka."""
        position = self.kafka_positions.get(event_id)
        return f"{event_id} (p{position[0]}:{position[1]})" if position else event_id

    def found(self, event_id: str, at: float) -> None:
        with self.lock:
            produced = self.samples.pop(event_id, None)
            if produced is not None:
                self.latencies.append((produced, at - produced))

    def in_fault(self, at: float) -> bool:
        return any(start <= at <= end for start, end in self.fault_windows)

    def open_fault(self) -> int:
        with self.lock:
            self.fault_windows.append((time.monotonic(), float("inf")))
            return len(self.fault_windows) - 1

    def close_fault(self, index: int) -> None:
        with self.lock:
            start, _ = self.fault_windows[index]
            self.fault_windows[index] = (start, time.monotonic())
