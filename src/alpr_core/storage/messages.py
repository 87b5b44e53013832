"""The parts of a Kafka message the pipeline reads, as a protocol so tests can make their own."""

from __future__ import annotations

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
