"""Background jobs: the plate indexer (the fuzzy-search dictionary) and the retention schedule,
on one periodic-thread base (``periodic.py``), built by :func:`build_jobs`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from alpr_core.config import Settings
from alpr_core.images.store import ImageStore
from alpr_core.jobs.periodic import PeriodicJob
from alpr_core.jobs.plate_indexer import PlateIndexer
from alpr_core.jobs.retention import RetentionSchedule
from alpr_core.metrics import StorageMetrics


@dataclass
class Jobs:
    running: list[PeriodicJob] = field(default_factory=list)

    def start(self) -> None:
        for job in self.running:
            job.start()

    def stop(self) -> None:
        for job in reversed(self.running):
            job.stop()


def build_jobs(
    settings: Settings,
    *,
    index_plates: bool,
    retention: tuple[ImageStore, StorageMetrics] | None,
) -> Jobs:
    """The jobs a process runs: every process that stores reads indexes their plates; one that
    is given the image store and metrics applies retention too."""
    jobs = Jobs()
    if index_plates:
        jobs.running.append(PlateIndexer(settings.db.conninfo()))
    if retention is not None:
        images, metrics = retention
        keep = timedelta(days=settings.retention.days)
        jobs.running.append(
            RetentionSchedule(
                settings.db.conninfo(), images, keep, settings.retention.interval_s, metrics
            )
        )
    return jobs
