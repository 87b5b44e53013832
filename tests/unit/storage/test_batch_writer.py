"""What the batch writer records once a batch is durable, with fakes for the sink and the DLQ."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from prometheus_client import CollectorRegistry

from alpr_core.events.avro import DecodedEvent
from alpr_core.events.parse import parse_event
from alpr_core.metrics import StorageMetrics
from alpr_core.storage.backoff import Backoff
from alpr_core.storage.batch import Accepted, Rejected
from alpr_core.storage.batch_writer import BatchWriter
from alpr_core.storage.dead_letter import DeadLetterPublisher
from alpr_core.storage.health import Liveness
from alpr_core.storage.messages import KafkaMessage
from alpr_core.storage.sink import DetectionSink, SinkResult
from tests.unit.factories import LIMITS, NOW, record


class StoresEverything:
    def write(self, events: Sequence[DecodedEvent]) -> SinkResult:
        return SinkResult(rows_inserted=len(events), images_stored=0)

    def close(self) -> None:
        pass


class NoDeadLetters:
    def publish(self, rejected: Sequence[Rejected]) -> None:
        assert not rejected

    def wait(self) -> None:
        pass


def event(camera_id: str, event_id: str) -> Accepted:
    decoded = DecodedEvent(
        parse_event(record(camera_id=camera_id, event_id=event_id), LIMITS, NOW), 1
    )
    return Accepted(("alpr.plates.detected", 0), cast(KafkaMessage, object()), decoded)


def writer(registry: CollectorRegistry, clock_s: float) -> BatchWriter:
    return BatchWriter(
        cast(DetectionSink, StoresEverything()),
        cast(DeadLetterPublisher, NoDeadLetters()),
        StorageMetrics(registry),
        Backoff(0.01, 0.01),
        Liveness(),
        clock=lambda: clock_s,
    )


def test_each_camera_counts_its_durable_events_and_when_it_was_last_heard_of() -> None:
    registry = CollectorRegistry()
    batch_writer = writer(registry, clock_s=1_764_331_200.0)
    batch = [
        event("cam-1", "00000000-0000-4000-8000-000000000001"),
        event("cam-1", "00000000-0000-4000-8000-000000000002"),
        event("cam-2", "00000000-0000-4000-8000-000000000003"),
    ]
    batch_writer.submit(batch, []).result(timeout=10)
    batch_writer.close()

    def sample(name: str, camera_id: str) -> float | None:
        return registry.get_sample_value(name, {"camera_id": camera_id})

    assert sample("alpr_camera_events_total", "cam-1") == 2
    assert sample("alpr_camera_events_total", "cam-2") == 1
    assert sample("alpr_camera_last_event_timestamp_seconds", "cam-1") == 1_764_331_200.0
    assert sample("alpr_camera_last_event_timestamp_seconds", "cam-3") is None
