"""Background jobs: the plate indexer (the fuzzy-search dictionary), the retention schedule, the
audit keeper and the alert dispatcher, on one periodic-thread base (``periodic.py``), built by
:func:`build_jobs`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from alpr_core.alerts.channel import delivery_channels
from alpr_core.config import Settings
from alpr_core.images.store import ImageStore
from alpr_core.jobs.alert_dispatch import AlertDispatcher, DeliveryMetrics
from alpr_core.jobs.audit import AuditKeeper
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
    keep_audit: bool = False,
    deliver_alerts: DeliveryMetrics | None = None,
) -> Jobs:
    """The jobs a process runs: every process that stores reads indexes their plates; one that
    is given the image store and metrics applies retention too; the API, which writes the audit
    log, seals and expires it (``keep_audit``); the storage service delivers alerts, counted in
    ``deliver_alerts``, unless ``ALERT_DELIVER`` is off."""
    jobs = Jobs()
    if deliver_alerts is not None and settings.alert.deliver:
        jobs.running.append(
            AlertDispatcher(
                settings.db.conninfo(),
                deliver_alerts,
                delivery_channels(settings),
                poll_s=settings.alert.dispatch_poll_s,
            )
        )
    if keep_audit:
        jobs.running.append(AuditKeeper(settings.db.conninfo(), settings.audit.seal_interval_s))
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
