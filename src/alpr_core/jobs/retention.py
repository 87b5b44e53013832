"""Run retention in the background (the storage service, or ``alpr run`` without Kafka), every
``RETENTION_INTERVAL_S``.

Several consumers may run it; an advisory lock lets one at a time do the work. A failed run is
logged and counted, and the next one tries again: retention never stops ingestion. A partition
busy past the lock timeout is counted (``alpr_retention_partitions_locked``) and dropped by a
later run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import structlog

from alpr_core.db.retention import apply_retention
from alpr_core.errors import TransientError
from alpr_core.images.store import ImageStore
from alpr_core.jobs.periodic import PeriodicJob
from alpr_core.metrics import StorageMetrics

log = structlog.get_logger("alpr.retention")


class RetentionSchedule(PeriodicJob):
    def __init__(
        self,
        conninfo: str,
        images: ImageStore,
        keep: timedelta,
        interval_s: float,
        metrics: StorageMetrics,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__("retention", interval_s, run_at_start=True)
        self._conninfo = conninfo
        self._images = images
        self._keep = keep
        self._metrics = metrics
        self._now = now

    def run_once(self) -> None:
        try:
            with psycopg.connect(self._conninfo, autocommit=True) as conn:
                result = apply_retention(conn, self._images, self._keep, self._now())
        except (psycopg.OperationalError, TransientError) as error:
            self._metrics.processing_errors.labels(reason="retention").inc()
            log.warning("retention run failed; will try again", error=str(error))
            return
        if result.ran:
            self._metrics.retention_partitions_dropped.inc(result.partitions_dropped)
            self._metrics.retention_partitions_locked.inc(result.partitions_locked)
            self._metrics.retention_images_deleted.inc(result.images_deleted)
            self._metrics.retention_last_run.set_to_current_time()
            log.info(
                "retention applied",
                partitions_dropped=result.partitions_dropped,
                partitions_locked=result.partitions_locked,
                images_deleted=result.images_deleted,
                plate_texts_deleted=result.plate_texts_deleted,
                alerts_deleted=result.alerts_deleted,
                passes_deleted=result.passes_deleted,
            )
