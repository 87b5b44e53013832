"""Every metric of the storage service and of HTTP ingest, declared once with its help text.

The names of the OVR-ALPR Core Services design are kept: ``alpr_messages_consumed_total``,
``alpr_database_writes_total`` and ``alpr_processing_errors_total``. Each metric lives in the
registry it is given, so tests build a fresh registry and read exact values.
:class:`EventRecorder` is the one place that counts what became of events, for the Kafka path and
HTTP ingest alike.
"""

from __future__ import annotations

import time
from collections import Counter as Counter_
from collections.abc import Callable, Iterable, Mapping, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from alpr_core.db.cameras import CameraState

_BATCH_SIZES = (1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
_BATCH_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _database_writes(registry: CollectorRegistry) -> Counter:
    return Counter(
        "alpr_database_writes", "Rows newly inserted into plate_detections.", registry=registry
    )


def _duplicates_skipped(registry: CollectorRegistry) -> Counter:
    return Counter(
        "alpr_duplicate_events",
        "Events already stored (replays), skipped by the insert.",
        registry=registry,
    )


def _processing_errors(registry: CollectorRegistry) -> Counter:
    return Counter(
        "alpr_processing_errors",
        "Events rejected or operations failed, by reason.",
        ["reason"],
        registry=registry,
    )


def _images_stored(registry: CollectorRegistry) -> Counter:
    return Counter(
        "alpr_images_stored", "Inline plate images written to the object store.", registry=registry
    )


class EventMetrics:
    """What both paths (Kafka and HTTP ingest) count about events, under the same names."""

    def __init__(self, registry: CollectorRegistry, received: Counter) -> None:
        self.registry = registry
        self.received = received
        self.database_writes = _database_writes(registry)
        self.duplicates_skipped = _duplicates_skipped(registry)
        self.processing_errors = _processing_errors(registry)
        self.images_stored = _images_stored(registry)
        self.cameras = CameraMetrics(registry)
        self.dead_lettered: Counter | None = None
        self.alerts = AlertMetrics(registry)


class AlertMetrics:
    """Watchlist matching where reads are stored (alerts/recorder.py)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.opened = Counter(
            "alpr_alerts",
            "Watchlist alerts opened, one per listed vehicle's pass by a camera, by list and"
            " priority.",
            ["list", "priority"],
            registry=registry,
        )
        self.match_seconds = Histogram(
            "alpr_alert_match_seconds",
            "Time to match a stored batch against the watchlists and record its alerts.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=registry,
        )

    def count_opened(self, opened: Sequence[tuple[str, str]]) -> None:
        for (name, priority), count in Counter_(opened).items():
            self.opened.labels(name, priority).inc(count)


class StorageMetrics(EventMetrics):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages_consumed = Counter(
            "alpr_messages_consumed",
            "Kafka messages taken off the topic, good or bad.",
            registry=registry,
        )
        super().__init__(registry, self.messages_consumed)
        self.dead_lettered = Counter(
            "alpr_events_dead_lettered",
            "Events sent to the dead-letter topic, by reason.",
            ["reason"],
            registry=registry,
        )
        self.batch_size = Histogram(
            "alpr_batch_size_events",
            "Messages per flushed batch.",
            buckets=_BATCH_SIZES,
            registry=registry,
        )
        self.batch_duration = Histogram(
            "alpr_batch_duration_seconds",
            "Time to flush one batch: images, rows, commit.",
            buckets=_BATCH_SECONDS,
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "alpr_consumer_lag_messages",
            "Messages behind the partition's high watermark.",
            ["topic", "partition"],
            registry=registry,
        )
        self.retries = Counter(
            "alpr_transient_failures",
            "Transient failures that were retried, by step.",
            ["step"],
            registry=registry,
        )
        self.assigned_partitions = Gauge(
            "alpr_assigned_partitions", "Partitions this consumer owns now.", registry=registry
        )
        self.paused = Gauge(
            "alpr_consumer_paused",
            "1 while consumption is paused waiting for a dependency.",
            registry=registry,
        )
        self.retention_partitions_dropped = Counter(
            "alpr_retention_partitions_dropped",
            "Expired day partitions (or chunks) dropped.",
            registry=registry,
        )
        self.retention_images_deleted = Counter(
            "alpr_retention_images_deleted",
            "Stored images deleted with their expired rows.",
            registry=registry,
        )
        self.retention_partitions_locked = Counter(
            "alpr_retention_partitions_locked",
            "Expired partitions left for the next run: their lock was not granted in time.",
            registry=registry,
        )
        self.retention_last_run = Gauge(
            "alpr_retention_last_run_timestamp_seconds",
            "When retention last completed.",
            registry=registry,
        )
        self.offsets_committed = Counter(
            "alpr_offsets_committed",
            "Offset commits made after a durable batch.",
            registry=registry,
        )


MAX_CAMERA_SERIES = 1000  # per process, while the registry is empty; past it, OTHER_CAMERAS
OTHER_CAMERAS = "other"


class CameraMetrics:
    """Per camera, in both the storage service and HTTP ingest: events made durable and when (the
    camera-silent alert takes the latest over both)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._known: set[str] = set()
        self._registered: frozenset[str] = frozenset()
        self.events = Counter(
            "alpr_camera_events",
            "Events made durable, by camera (one series per camera).",
            ["camera_id"],
            registry=registry,
        )
        self.last_event = Gauge(
            "alpr_camera_last_event_timestamp_seconds",
            "When this service last made an event of the camera durable (Unix time).",
            ["camera_id"],
            registry=registry,
        )
        self.registered_since = Gauge(
            "alpr_camera_registered_since_timestamp_seconds",
            "Each camera of the registry: when it was registered or last changed (Unix time).",
            ["camera_id", "site_id", "enabled"],
            registry=registry,
        )

    def record(self, camera_ids: Iterable[str], now_s: float) -> None:
        for camera_id, count in Counter_(camera_ids).items():
            label = self._label(camera_id)
            self.events.labels(camera_id=label).inc(count)
            self.last_event.labels(camera_id=label).set(now_s)

    def use_registry(self, registered: Mapping[str, CameraState]) -> None:
        """The cameras of the registry (docs/decisions.md#camera-registry): while there are
        any, only they get their own series; each is exported, so that the camera-silent alert
        and the dashboards know every registered camera, even one never heard of."""
        self._registered = frozenset(registered)
        self.registered_since.clear()
        for camera_id, state in registered.items():
            enabled = "true" if state.enabled else "false"
            self.registered_since.labels(camera_id, state.site_id, enabled).set(state.since_s)

    def _label(self, camera_id: str) -> str:
        """A registered camera's own series and ``other`` for the rest; with an empty registry,
        the camera's own series while fewer than ``MAX_CAMERA_SERIES`` exist, else ``other``:
        camera ids come from edges and clients, and must not grow the series without bound."""
        registered = self._registered
        if registered:
            return camera_id if camera_id in registered else OTHER_CAMERAS
        if camera_id in self._known or len(self._known) < MAX_CAMERA_SERIES:
            self._known.add(camera_id)
            return camera_id
        return OTHER_CAMERAS


class IngestMetrics(EventMetrics):
    """POST /events in the API. Rows, duplicates, images and rejections (``reason``) use the
    storage service's names, so a sum over both jobs counts every stored read once."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events_received = Counter(
            "alpr_http_events_received",
            "Events posted to POST /events, good or bad.",
            registry=registry,
        )
        super().__init__(registry, self.events_received)
        self.throttled = Counter(
            "alpr_http_ingest_throttled",
            "POST /events requests refused by the per-key rate limit.",
            registry=registry,
        )


class EventRecorder:
    """The one place that counts what became of events, for Kafka and HTTP ingest alike."""

    def __init__(self, metrics: EventMetrics, clock: Callable[[], float] = time.time) -> None:
        self.metrics = metrics
        self._clock = clock

    def received(self, count: int = 1) -> None:
        self.metrics.received.inc(count)

    def rejected(self, reason: str) -> None:
        """An event refused (by decoding, validation, scope or the database), or a failure."""
        self.metrics.processing_errors.labels(reason=reason).inc()

    def dead_lettered(self, reason: str) -> None:
        if self.metrics.dead_lettered is not None:
            self.metrics.dead_lettered.labels(reason=reason).inc()

    def stored(self, rows: int, duplicates: int, images: int, camera_ids: Iterable[str]) -> None:
        """A write made durable: new rows, replays skipped, images, and the cameras stored."""
        self.metrics.database_writes.inc(rows)
        self.metrics.duplicates_skipped.inc(duplicates)
        self.metrics.images_stored.inc(images)
        self.metrics.cameras.record(camera_ids, self._clock())
