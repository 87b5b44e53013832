"""Ingest a list of posted items: decode and validate each, refuse what the key may not post,
then store the good ones through :class:`~alpr_core.storage.sink.DetectionSink` (images, then
rows in one transaction, idempotent on event_id).

Bad items are reported back, not dead-lettered: over HTTP the sender gets the problem in the
answer. Blocking (registry, S3, PostgreSQL): the API runs it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from alpr_core.db.api_keys import ApiKey
from alpr_core.errors import RejectedEvent, RejectReason
from alpr_core.events.avro import DecodedEvent, EventDecoder
from alpr_core.events.parse import EventLimits
from alpr_core.ingest.items import decode_item, event_id_hint
from alpr_core.metrics import IngestMetrics
from alpr_core.storage.sink import DetectionSink, SinkResult


@dataclass(frozen=True, slots=True)
class ItemRejection:
    index: int
    event_id: str | None
    error: RejectedEvent


@dataclass(slots=True)
class IngestResult:
    accepted: list[tuple[int, DecodedEvent]] = field(default_factory=list)
    rejected: list[ItemRejection] = field(default_factory=list)
    stored: SinkResult = field(default_factory=lambda: SinkResult(0, 0))

    @property
    def duplicates(self) -> int:
        return len(self.accepted) - self.stored.rows_inserted


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EventIngest:
    def __init__(
        self,
        decoder: EventDecoder,
        limits: EventLimits,
        sink: DetectionSink,
        metrics: IngestMetrics,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._decoder = decoder
        self._limits = limits
        self._sink = sink
        self._metrics = metrics
        self._clock = clock

    def ingest(self, items: Sequence[Any], key: ApiKey) -> IngestResult:
        """Store what is good in ``items``; raises TransientError when a dependency is down."""
        result = self._sort(items, key)
        if result.accepted:
            result.stored = self._sink.write([decoded for _, decoded in result.accepted])
        self._count(len(items), result)
        return result

    def close(self) -> None:
        self._sink.close()

    def _sort(self, items: Sequence[Any], key: ApiKey) -> IngestResult:
        now = self._clock()
        result = IngestResult()
        for index, item in enumerate(items):
            try:
                decoded = decode_item(item, self._decoder, self._limits, now)
                check_scope(decoded, key)
            except RejectedEvent as error:
                result.rejected.append(ItemRejection(index, event_id_hint(item), error))
            else:
                result.accepted.append((index, decoded))
        return result

    def _count(self, received: int, result: IngestResult) -> None:
        self._metrics.events_received.inc(received)
        for rejection in result.rejected:
            self._metrics.processing_errors.labels(reason=rejection.error.reason).inc()
        self._metrics.database_writes.inc(result.stored.rows_inserted)
        self._metrics.duplicates_skipped.inc(result.duplicates)
        self._metrics.images_stored.inc(result.stored.images_stored)
        self._metrics.cameras.record(
            (decoded.event.camera_id for _, decoded in result.accepted), self._clock().timestamp()
        )


def check_scope(decoded: DecodedEvent, key: ApiKey) -> None:
    """A key limited to cameras or sites may post only for those."""
    event = decoded.event
    if key.cameras and event.camera_id not in key.cameras:
        raise RejectedEvent(RejectReason.OUT_OF_SCOPE, "this key may not post for this camera_id")
    if key.sites and event.site not in key.sites:
        raise RejectedEvent(RejectReason.OUT_OF_SCOPE, "this key may not post for this site")
