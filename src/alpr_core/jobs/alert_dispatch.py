"""Deliver alerts to webhooks from the outbox (docs/decisions.md#alert-delivery).

One dispatcher delivers at a time: it holds a session advisory lock, and another process's waits
until the holder's connection goes. It wakes when an alert is committed (``LISTEN alpr_alerts``)
and at least every ``poll_s`` for retries. Each due delivery is posted signed
(``alerts/signing.py``) with its outbox id as the idempotency key; a 2xx marks it delivered,
anything else schedules a retry with backoff, and a webhook failing ``max_failures`` times in a
row is switched off, with a log line and ``alpr_webhooks_disabled_total``. After each round the
leader reports the backlog (``alpr_alert_deliveries_pending``, and the age of the oldest in
``alpr_alert_delivery_oldest_pending_seconds``, which the ``AlertDeliveryStuck`` rule watches).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from alpr_core.alerts.signing import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from alpr_core.db.alert_delivery import (
    DueDelivery,
    backlog,
    delivered,
    due_deliveries,
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
        for outcome in ("delivered", "failed"):  # at zero from the start, for rate()
            self.deliveries.labels("webhook", outcome)
        self.webhooks_disabled = Counter(
            "alpr_webhooks_disabled",
            "Webhooks switched off after failing too many times in a row.",
            registry=registry,
        )
        self.pending = Gauge(
            "alpr_alert_deliveries_pending",
            "Alert deliveries to enabled webhooks not yet delivered.",
            registry=registry,
        )
        self.oldest_pending = Gauge(
            "alpr_alert_delivery_oldest_pending_seconds",
            "Age of the oldest undelivered alert to an enabled webhook (0: none waits).",
            registry=registry,
        )


class AlertDispatcher(PeriodicJob):
    def __init__(
        self,
        conninfo: str,
        metrics: DeliveryMetrics,
        *,
        poll_s: float,
        timeout_s: float,
        concurrency: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__("alert-dispatch", 0.001, run_at_start=True)
        self._conninfo = conninfo
        self._metrics = metrics
        self._poll_s = poll_s
        self._clock = clock
        self._http = httpx.Client(timeout=timeout_s, follow_redirects=False)
        self._senders = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook")
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._leading = False

    def run_once(self) -> None:
        try:
            conn = self._connection()
            if not self._leading:
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,)).fetchone()
                self._leading = bool(row and row[0])
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
        self._http.close()

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
        due = due_deliveries(conn, BATCH)
        outcomes = list(self._senders.map(self._post, due))
        for delivery, error in zip(due, outcomes, strict=True):
            if error is None:
                delivered(conn, delivery)
                self._metrics.deliveries.labels("webhook", "delivered").inc()
                continue
            self._metrics.deliveries.labels("webhook", "failed").inc()
            if failed(conn, delivery, error):
                self._metrics.webhooks_disabled.inc()
                log.warning(
                    "webhook switched off after repeated failures",
                    webhook_id=str(delivery.webhook_id),
                    last_error=error,
                )
        return len(due)

    def _post(self, delivery: DueDelivery) -> str | None:
        """Post one delivery; None when the receiver took it (2xx), else why not."""
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        timestamp = int(self._clock())
        headers = {
            "Content-Type": "application/json",
            DELIVERY_HEADER: str(delivery.outbox_id),
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(delivery.secret, timestamp, body),
        }
        try:
            answer = self._http.post(delivery.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return type(error).__name__
        return None if answer.is_success else f"HTTP {answer.status_code}"
