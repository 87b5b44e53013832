"""Commit step, the last: commit a durable batch's offsets, for partitions still owned only."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import structlog
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from alpr_core.errors import TransientError
from alpr_core.metrics import StorageMetrics
from alpr_core.storage.messages import Assignment, TopicPartitionKey
from alpr_core.storage.retry import Retry

log = structlog.get_logger("alpr.storage")
Offsets = dict[TopicPartitionKey, int]


class CommitStep:
    def __init__(
        self,
        consumer: Consumer,
        assignment: Assignment,
        retry: Retry,
        metrics: StorageMetrics,
        in_callback: Callable[[], bool],
    ) -> None:
        self._consumer = consumer
        self._assignment = assignment
        self._retry = retry
        self._metrics = metrics
        self._in_callback = in_callback

    def submit(self, offsets: Offsets) -> None:
        if self._in_callback():  # no polling inside a rebalance callback: one attempt only
            self._commit(offsets)
        else:
            self._retry("commit", lambda: self._commit(offsets))

    def poll(self) -> None:
        pass

    def join(self, timeout_s: float | None) -> None:
        pass

    def forget(self, partitions: Iterable[TopicPartitionKey]) -> None:
        pass  # the assignment already says which partitions are gone

    def close(self) -> None:
        pass

    def _commit(self, offsets: Offsets) -> None:
        owned = self._assignment.owned(offsets)  # checked at each attempt: a retry polls
        if not owned:
            return
        try:
            self._consumer.commit(offsets=_partitions(owned), asynchronous=False)
        except KafkaException as error:
            self._refused(error.args[0], error)
            return
        self._metrics.offsets_committed.inc()

    def _refused(self, kafka_error: KafkaError, error: KafkaException) -> None:
        if kafka_error.retriable() and not self._in_callback():
            raise TransientError(f"commit: {kafka_error}") from error
        # The group moved on (rebalance): the data is durable and writes are idempotent, so
        # the new owner re-reading these messages stores nothing twice.
        log.warning("commit refused", error=str(kafka_error))


def _partitions(offsets: Offsets) -> list[TopicPartition]:
    return [TopicPartition(topic, part, offset) for (topic, part), offset in offsets.items()]
