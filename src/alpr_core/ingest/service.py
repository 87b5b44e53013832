"""Ingest a list of posted items with the Kafka path's decode and write steps: decode and
validate each, refuse what the key may not post, then store the good ones (images, then rows
in one transaction, idempotent on event_id).

Bad items, and rows the database refuses, are reported back, not dead-lettered: over HTTP the
sender gets the problem in the answer. Blocking (registry, S3, PostgreSQL): the API runs it in a
worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from alpr_core.db.api_keys import ApiKey
from alpr_core.errors import RejectedEvent, RejectReason
from alpr_core.events.avro import DecodedEvent, EventDecoder
from alpr_core.events.parse import EventLimits
from alpr_core.ingest.items import decode_item, event_id_hint
from alpr_core.metrics import EventRecorder, IngestMetrics
from alpr_core.storage.results import Sink, Stored, store_events
from alpr_core.storage.steps.decode import decode_or_reject


@dataclass(frozen=True, slots=True)
class ItemRejection:
    index: int
    event_id: str | None
    error: RejectedEvent


@dataclass(slots=True)
class IngestResult:
    accepted: list[tuple[int, DecodedEvent]] = field(default_factory=list)
    rejected: list[ItemRejection] = field(default_factory=list)
    stored: Stored = field(default_factory=Stored)

    @property
    def duplicates(self) -> int:
        return self.stored.duplicates


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EventIngest:
    def __init__(
        self,
        decoder: EventDecoder,
        limits: EventLimits,
        sink: Sink,
        metrics: IngestMetrics,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._decoder = decoder
        self._limits = limits
        self._sink = sink
        self._recorder = EventRecorder(metrics, lambda: clock().timestamp())
        self._clock = clock

    def ingest(self, items: Sequence[Any], key: ApiKey) -> IngestResult:
        """Store what is good in ``items``; raises TransientError when a dependency is down."""
        self._recorder.received(len(items))
        result = self._sort(items, key)
        if result.accepted:
            events = [decoded for _, decoded in result.accepted]
            result.stored = store_events(self._sink, events, self._recorder)
            self._sink.raise_alerts(result.stored.durable)  # before the answer says "stored"
            _move_refused(result)
        return result

    def close(self) -> None:
        self._sink.close()

    def _sort(self, items: Sequence[Any], key: ApiKey) -> IngestResult:
        now = self._clock()
        result = IngestResult()
        for index, item in enumerate(items):
            outcome = decode_or_reject(partial(self._decode, item, key, now), self._recorder)
            if isinstance(outcome, RejectedEvent):
                result.rejected.append(ItemRejection(index, event_id_hint(item), outcome))
            else:
                result.accepted.append((index, outcome))
        return result

    def _decode(self, item: Any, key: ApiKey, now: datetime) -> DecodedEvent:
        decoded = decode_item(item, self._decoder, self._limits, now)
        check_scope(decoded, key)
        return decoded


def _move_refused(result: IngestResult) -> None:
    """Rows the database refused are rejected items, with the sink's reason."""
    refused = {entry.index: entry.error for entry in result.stored.refused}
    for position, (index, decoded) in enumerate(result.accepted):
        if position in refused:
            rejection = ItemRejection(index, decoded.event.event_id, refused[position])
            result.rejected.append(rejection)
    result.accepted = [pair for pos, pair in enumerate(result.accepted) if pos not in refused]
    result.rejected.sort(key=lambda rejection: rejection.index)


def check_scope(decoded: DecodedEvent, key: ApiKey) -> None:
    """A key limited to cameras or sites may post only for those."""
    event = decoded.event
    if key.cameras and event.camera_id not in key.cameras:
        raise RejectedEvent(RejectReason.OUT_OF_SCOPE, "this key may not post for this camera_id")
    if key.sites and event.site not in key.sites:
        raise RejectedEvent(RejectReason.OUT_OF_SCOPE, "this key may not post for this site")
