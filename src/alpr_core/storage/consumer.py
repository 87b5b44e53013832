"""The storage consumer: the Kafka loop wired to its steps, decode → batch → write → commit.

The loop (``kafka_loop.py``) polls, pauses, resumes and serves rebalances; the steps
(``steps/``) decode each message, gather batches, have the writer thread make them durable while
the next is decoded, and commit their offsets last. Only durable batches are committed, and
only for partitions the loop still owns.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from confluent_kafka import Consumer

from alpr_core.events.avro import EventDecoder
from alpr_core.metrics import EventRecorder, StorageMetrics
from alpr_core.storage.batch_writer import BatchWriter
from alpr_core.storage.health import Liveness
from alpr_core.storage.kafka_loop import KafkaLoop, LoopSettings
from alpr_core.storage.retry import Retry
from alpr_core.storage.steps.batch import BatchStep
from alpr_core.storage.steps.commit import CommitStep
from alpr_core.storage.steps.decode import DecodeStep
from alpr_core.storage.steps.write import WriteStep

__all__ = ["LoopSettings", "StorageConsumer"]


class StorageConsumer:
    def __init__(
        self,
        consumer: Consumer,
        decoder: EventDecoder,
        writer: BatchWriter,
        metrics: StorageMetrics,
        settings: LoopSettings,
        liveness: Liveness | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        liveness = liveness or Liveness()
        self.loop = KafkaLoop(consumer, settings, metrics, liveness, clock)
        loop = self.loop
        retry = Retry(
            settings.backoff, loop.wait_paused, loop.past_shutdown_grace, metrics, liveness
        )
        commit = CommitStep(consumer, loop.assignment, retry, metrics, loop.in_callback)
        grace = loop.past_shutdown_grace
        write = WriteStep(
            writer, commit, metrics, loop.wait_paused, grace, clock, settings.batches_in_flight
        )
        batch = BatchStep(
            settings.batch_max_events, settings.batch_max_time_s, write, loop.assignment, clock
        )
        self.first = DecodeStep(decoder, retry, EventRecorder(metrics), batch)

    def request_stop(self) -> None:
        """Finish the batch in flight, commit, and return from :meth:`run` (signal-safe)."""
        self.loop.request_stop()

    def run(self) -> None:
        self.loop.run(self.first)
