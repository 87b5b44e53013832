"""The storage sink as both ingest paths build it: the Kafka consumer and ``POST /events`` write
through the same checks, registry and watchlist matching."""

from __future__ import annotations

from datetime import timedelta

from psycopg_pool import ConnectionPool

from alpr_core.alerts.recorder import AlertRecorder
from alpr_core.config import Settings
from alpr_core.images.object_store import edge_uploads_of
from alpr_core.images.store import ImageStore
from alpr_core.metrics import EventMetrics
from alpr_core.storage.known_cameras import KnownCameras, registry_loader
from alpr_core.storage.sink import DetectionSink


def detection_sink(
    settings: Settings, pool: ConnectionPool, images: ImageStore, metrics: EventMetrics
) -> DetectionSink:
    alerts = None
    if settings.alert.matching:
        alerts = AlertRecorder(
            pool,
            timedelta(seconds=settings.alert.pass_window_s),
            settings.alert.refresh_s,
            metrics.alerts,
        )
        alerts.load()
    return DetectionSink(
        pool,
        images,
        settings.storage.image_upload_concurrency,
        edge_uploads_of(settings),
        retention=timedelta(days=settings.retention.days),
        cameras=KnownCameras(
            registry_loader(pool),
            enforce=settings.ingest.known_cameras_only,
            on_load=metrics.cameras.use_registry,
        ),
        alerts=alerts,
        pass_gap=timedelta(seconds=settings.passes.gap_s) if settings.passes.tracking else None,
        plate_sketches=settings.stats.plate_sketches,
    )
