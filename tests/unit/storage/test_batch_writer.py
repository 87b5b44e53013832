"""The batch writer with fakes for the sink and the DLQ: what it writes, dead-letters, counts."""

from __future__ import annotations

from typing import cast

from prometheus_client import CollectorRegistry

from alpr_core.errors import RejectReason
from alpr_core.metrics import StorageMetrics
from alpr_core.storage.backoff import Backoff
from alpr_core.storage.batch import Batch
from alpr_core.storage.batch_writer import BatchWriter
from alpr_core.storage.dead_letter import DeadLetterPublisher
from alpr_core.storage.health import Liveness
from tests.unit.storage.fakes import BAD, FakeDeadLetters, FakeMessage, FakeSink, decoded

IDS = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(1, 5)]


def writer(
    registry: CollectorRegistry, sink: FakeSink, dead: FakeDeadLetters, clock_s: float = 0.0
) -> BatchWriter:
    return BatchWriter(
        sink,
        cast(DeadLetterPublisher, dead),
        StorageMetrics(registry),
        Backoff(0.01, 0.01),
        Liveness(),
        sleep=lambda _s: None,
        clock=lambda: clock_s,
    )


def batch_of(*cameras: str, bad: int = 0) -> Batch:
    batch = Batch(max_events=10, max_time_s=1.0)
    for offset, camera in enumerate(cameras):
        batch.add(FakeMessage(0, offset), decoded(camera, IDS[offset]), now=0.0)
    for offset in range(bad):
        batch.add(FakeMessage(1, offset), BAD, now=0.0)
    return batch


def test_each_camera_counts_its_durable_events_and_when_it_was_last_heard_of() -> None:
    registry = CollectorRegistry()
    batch_writer = writer(registry, FakeSink(), FakeDeadLetters(), clock_s=1_764_331_200.0)
    batch_writer.submit(batch_of("cam-1", "cam-1", "cam-2")).result(timeout=10)
    batch_writer.close()

    def sample(name: str, camera_id: str) -> float | None:
        return registry.get_sample_value(name, {"camera_id": camera_id})

    assert sample("alpr_camera_events_total", "cam-1") == 2
    assert sample("alpr_camera_events_total", "cam-2") == 1
    assert sample("alpr_camera_last_event_timestamp_seconds", "cam-1") == 1_764_331_200.0
    assert sample("alpr_camera_last_event_timestamp_seconds", "cam-3") is None


def test_rejected_and_refused_messages_are_dead_lettered_and_counted_once() -> None:
    registry, dead = CollectorRegistry(), FakeDeadLetters()
    sink = FakeSink(refuse={0: RejectReason.UNSTORABLE}, fail=2)
    batch_writer = writer(registry, sink, dead)
    stored = batch_writer.submit(batch_of("cam-1", "cam-2", bad=1)).result(timeout=10)
    batch_writer.close()

    assert (stored.rows_inserted, stored.duplicates) == (1, 0)
    assert [entry.error.reason for entry in dead.published] == ["undecodable", "unstorable"]
    assert dead.published[1].message.offset() == 0  # the refused row's own message

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert sample("alpr_events_dead_lettered_total", reason="unstorable") == 1
    assert sample("alpr_processing_errors_total", reason="unstorable") == 1
    assert sample("alpr_transient_failures_total", step="store") == 2
    assert sample("alpr_duplicate_events_total") == 0


def test_a_batch_is_durable_once_its_stored_reads_went_to_the_matcher_through_a_failure() -> None:
    registry, sink = CollectorRegistry(), FakeSink(refuse={1: RejectReason.UNSTORABLE})
    sink.alerts_fail = 2
    batch_writer = writer(registry, sink, FakeDeadLetters())
    first = batch_writer.submit(batch_of("cam-1", "cam-2", "cam-3"))
    second = batch_writer.submit(batch_of("cam-4", "cam-5", "cam-6"))
    assert second.result(timeout=10).rows_inserted == 2
    assert first.done()  # in order: the alert thread took the first batch before the second
    batch_writer.close()
    assert sink.alerted == [2, 2]  # the refused reads are not matched
    assert registry.get_sample_value("alpr_transient_failures_total", {"step": "alerts"}) == 2
