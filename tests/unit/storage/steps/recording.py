"""A last step that records what it was given, and can refuse it for a while."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

from alpr_core.storage.messages import TopicPartitionKey
from alpr_core.storage.steps import MessageRejected

T = TypeVar("T")


class RecordingStep(Generic[T]):
    def __init__(self) -> None:
        self.items: list[T] = []
        self.busy = False
        self.forgotten: list[TopicPartitionKey] = []
        self.joins: list[float | None] = []

    def submit(self, item: T) -> None:
        if self.busy:
            raise MessageRejected(lambda: not self.busy)
        self.items.append(item)

    def poll(self) -> None:
        pass

    def join(self, timeout_s: float | None) -> None:
        self.joins.append(timeout_s)

    def forget(self, partitions: Iterable[TopicPartitionKey]) -> None:
        self.forgotten.extend(partitions)

    def close(self) -> None:
        pass
