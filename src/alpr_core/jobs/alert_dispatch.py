"""Deliver alerts from the outbox to their channels (docs/decisions.md#alert-delivery): the
lists' webhooks, and the deployment's Kafka topic and MQTT broker when configured
(``alerts/channel.py``).

One dispatcher delivers at a time: it holds a session advisory lock, and another process's waits
until the holder's connection goes. On taking the lock it marks the deployment channels it has
enabled and the others disabled, so that new alerts get a delivery row for each channel it
serves. It wakes when an alert is committed (``LISTEN alpr_alerts``) and at least every
``poll_s`` for retries. Each channel sends its due deliveries with the outbox id as the
idempotency key; a delivery the receiver took is marked delivered, any other outcome schedules a
retry with backoff, and a webhook failing ``max_failures`` times in a row is switched off, with a
log line and ``alpr_webhooks_disabled_total``. After each round the leader reports the backlog
(``alpr_alert_deliveries_pending``, and the age of the oldest in
``alpr_alert_delivery_oldest_pending_seconds``, which the ``AlertDeliveryStuck`` rule watches).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import psycopg
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from alpr_core.alerts.channel import Channel
from alpr_core.db.alert_delivery import (
    DueDelivery,
    backlog,
    delivered,
    due_deliveries,
    enable_channels,
    failed,
)
from alpr_core.jobs.periodic import PeriodicJob

log = structlog.get_logger("alpr.alerts.delivery")
CHANNEL = "alpr_alerts"
_LOCK_KEY = 0x41_4C_50_52_5F_44  # "ALPR_D": one dispatcher per database
BATCH = 200


class DeliveryMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "alpr_alert_deliveries",
            "Alert deliveries attempted, by channel and outcome (delivered, failed).",
            ["channel", "outcome"],
            registry=registry,
        )
        self.webhooks_disabled = Counter(
            "alpr_webhooks_disabled",
            "Webhooks switched off after failing too many times in a row.",
            registry=registry,
        )
        self.pending = Gauge(
            "alpr_alert_deliveries_pending",
            "Alert deliveries to enabled webhooks and channels not yet delivered.",
            registry=registry,
        )
        self.oldest_pending = Gauge(
            "alpr_alert_delivery_oldest_pending_seconds",
            "Age of the oldest undelivered alert to an enabled webhook or channel (0: none waits).",
            registry=registry,
        )

    def serving(self, channels: Sequence[Channel]) -> None:
        """Start each channel's counters at zero, for rate()."""
        for channel in channels:
            for outcome in ("delivered", "failed"):
                self.deliveries.labels(channel.name, outcome)


class AlertDispatcher(PeriodicJob):
    def __init__(
        self,
        conninfo: str,
        metrics: DeliveryMetrics,
        channels: Sequence[Channel],
        *,
        poll_s: float,
    ) -> None:
        super().__init__("alert-dispatch", 0.001, run_at_start=True)
        self._conninfo = conninfo
        self._metrics = metrics
        self._channels = list(channels)
        self._poll_s = poll_s
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._leading = False
        self._senders = ThreadPoolExecutor(len(self._channels), thread_name_prefix="alert-send")
        metrics.serving(self._channels)

    def run_once(self) -> None:
        try:
            conn = self._connection()
            if not self._leading:
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,)).fetchone()
                self._leading = bool(row and row[0])
                if self._leading:
                    enable_channels(conn, [channel.name for channel in self._channels])
            if self._leading:
                while not self.stopping() and self._deliver_due(conn) == BATCH:
                    pass
                pending, oldest_s = backlog(conn)
                self._metrics.pending.set(pending)
                self._metrics.oldest_pending.set(oldest_s)
            for _ in conn.notifies(timeout=self._poll_s, stop_after=1):
                pass
        except psycopg.Error as error:
            log.warning("alert delivery paused", error_class=type(error).__name__)
            self._drop_connection()
            self._stop.wait(self._poll_s)

    def closed(self) -> None:
        self._drop_connection()
        self._senders.shutdown(wait=True)
        for channel in self._channels:
            channel.close()

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._conninfo, autocommit=True)
            self._conn.execute(f"LISTEN {CHANNEL}")
            self._leading = False
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._leading = False

    def _deliver_due(self, conn: psycopg.Connection[tuple[object, ...]]) -> int:
        """One round: each channel's due deliveries, sent side by side (a slow broker holds up
        no webhook), their outcomes then recorded. Returns the largest batch of the round."""
        due = {channel: due_deliveries(conn, BATCH, [channel.name]) for channel in self._channels}
        busy = [channel for channel in self._channels if due[channel]]
        sent = self._senders.map(lambda channel: channel.send(due[channel]), busy)
        for channel, outcomes in zip(busy, sent, strict=True):
            self._record(conn, channel, due[channel], outcomes)
        return max((len(batch) for batch in due.values()), default=0)

    def _record(
        self,
        conn: psycopg.Connection[tuple[object, ...]],
        channel: Channel,
        due: list[DueDelivery],
        outcomes: list[str | None],
    ) -> None:
        taken = [delivery for delivery, error in zip(due, outcomes, strict=True) if error is None]
        if taken:
            delivered(conn, taken)
            self._metrics.deliveries.labels(channel.name, "delivered").inc(len(taken))
        for delivery, error in zip(due, outcomes, strict=True):
            if error is None:
                continue
            self._metrics.deliveries.labels(channel.name, "failed").inc()
            if failed(conn, delivery, error):
                self._metrics.webhooks_disabled.inc()
                log.warning(
                    "webhook switched off after repeated failures",
                    webhook_id=str(delivery.webhook_id),
                    last_error=error,
                )
