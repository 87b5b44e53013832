"""The write shared by Kafka and HTTP ingest: store events through the sink and count the outcome.

A row the database refuses (``SinkResult.unstorable``) is a rejection with the sink's reason,
never a duplicate: duplicates are the events neither inserted nor refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from alpr_core.events.avro import DecodedEvent
from alpr_core.events.model import PlateEvent
from alpr_core.metrics import EventRecorder
from alpr_core.storage.sink import SinkResult, Unstorable


class Sink(Protocol):
    def write(self, events: Sequence[DecodedEvent]) -> SinkResult: ...
    def raise_alerts(self, durable: Sequence[PlateEvent]) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Stored:
    rows_inserted: int = 0
    images_stored: int = 0
    duplicates: int = 0
    refused: tuple[Unstorable, ...] = ()  # indexes into the written events
    durable: tuple[PlateEvent, ...] = ()  # for the watchlist matcher


def store_events(sink: Sink, events: Sequence[DecodedEvent], recorder: EventRecorder) -> Stored:
    """Write ``events``; raises TransientError (nothing counted) when a dependency is down."""
    result = sink.write(events)
    refused = {entry.index for entry in result.unstorable}
    stored = Stored(
        result.rows_inserted,
        result.images_stored,
        len(events) - len(refused) - result.rows_inserted,
        result.unstorable,
        result.durable,
    )
    cameras = (e.event.camera_id for i, e in enumerate(events) if i not in refused)
    recorder.stored(stored.rows_inserted, stored.duplicates, stored.images_stored, cameras)
    for entry in result.unstorable:
        recorder.rejected(entry.error.reason)
    return stored
