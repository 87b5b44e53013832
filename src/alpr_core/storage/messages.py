"""The parts of a Kafka message the pipeline reads, as a protocol so tests can make their own."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Protocol

TopicPartitionKey = tuple[str, int]
Headers = dict[str, str | bytes | None] | list[tuple[str, str | bytes | None]]


class KafkaMessage(Protocol):
    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...
    def key(self) -> bytes | None: ...
    def value(self) -> bytes | None: ...
    def headers(self) -> Headers | None: ...
    def timestamp(self) -> tuple[int, int]: ...


def partition_key(message: KafkaMessage) -> TopicPartitionKey:
    return (message.topic() or "", message.partition() or 0)


def header_list(headers: Headers | None) -> list[tuple[str, str | bytes | None]]:
    if headers is None:
        return []
    return list(headers.items()) if isinstance(headers, dict) else list(headers)


class Assignment:
    """The partitions this consumer owns now, as the rebalance callbacks last said.

    Each time a partition is assigned it gets a new generation, so a message fetched under an
    earlier assignment of the same partition can be told apart from the current one.
    """

    def __init__(self) -> None:
        self._owned: dict[TopicPartitionKey, int] = {}
        self._generations = itertools.count(1)

    def __contains__(self, key: object) -> bool:
        return key in self._owned

    def generation(self, key: TopicPartitionKey) -> int | None:
        """The current assignment of ``key``, or None when it is not owned."""
        return self._owned.get(key)

    def add(self, keys: Iterable[TopicPartitionKey]) -> None:
        for key in keys:
            self._owned[key] = next(self._generations)

    def remove(self, keys: Iterable[TopicPartitionKey]) -> None:
        for key in keys:
            self._owned.pop(key, None)

    def owned(self, offsets: dict[TopicPartitionKey, int]) -> dict[TopicPartitionKey, int]:
        """Only the ``offsets`` of partitions owned now: never commit for another owner."""
        return {key: offset for key, offset in offsets.items() if key in self._owned}
