"""The write shared by both paths: what it counts, with a fake sink."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from alpr_core.errors import RejectReason
from alpr_core.metrics import EventRecorder, IngestMetrics, StorageMetrics
from alpr_core.storage.results import store_events
from tests.unit.storage.fakes import FakeSink, decoded

IDS = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(1, 5)]


@pytest.mark.parametrize(
    "metrics", [pytest.param(StorageMetrics, id="kafka"), pytest.param(IngestMetrics, id="http")]
)
def test_a_refused_row_is_a_rejection_with_its_reason_never_a_duplicate(
    metrics: type[StorageMetrics] | type[IngestMetrics],
) -> None:
    registry = CollectorRegistry()
    recorder = EventRecorder(metrics(registry), clock=lambda: 100.0)
    events = [decoded("cam-1", IDS[0]), decoded("cam-2", IDS[1]), decoded("cam-1", IDS[2])]
    sink = FakeSink(refuse={1: RejectReason.PAST_RETENTION}, already_stored=1)

    stored = store_events(sink, events, recorder)

    assert (stored.rows_inserted, stored.duplicates) == (1, 1)
    assert [entry.index for entry in stored.refused] == [1]

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert sample("alpr_processing_errors_total", reason="past_retention") == 1
    assert sample("alpr_duplicate_events_total") == 1
    assert sample("alpr_database_writes_total") == 1
    assert sample("alpr_camera_events_total", camera_id="cam-1") == 2
    assert sample("alpr_camera_events_total", camera_id="cam-2") is None
