"""Raise alerts for reads that are durable: the storage sink hands each written batch here, for
Kafka and HTTP ingest alike, after its transaction has committed
(docs/decisions.md#watchlist-matching).

The entries are held as a :class:`WatchlistIndex`, rebuilt when the lists change (checked at
most every ``refresh_s``). A batch's alerts are one transaction; a failure is a
:class:`TransientError`, and the caller writes the batch again: the reads are already stored
(nothing changes) and the hits already recorded are skipped, so every hit is recorded once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import structlog
from psycopg_pool import ConnectionPool, PoolTimeout

from alpr_core.alerts.matcher import ActiveEntry, Sighting, WatchlistIndex
from alpr_core.db.alerts import active_entries, entries_version, record_hits
from alpr_core.errors import TransientError
from alpr_core.events.model import PlateEvent
from alpr_core.metrics import AlertMetrics

log = structlog.get_logger("alpr.alerts")


def sighting_of(event: PlateEvent) -> Sighting:
    return Sighting(
        event.plate_normalized, event.camera_id, event.site, event.direction, event.captured_at
    )


class AlertRecorder:
    def __init__(
        self,
        pool: ConnectionPool,
        window: timedelta,
        refresh_s: float,
        metrics: AlertMetrics,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``metrics`` count the alerts opened (once committed) and time each batch."""
        self._pool = pool
        self._window = window
        self._refresh_s = refresh_s
        self._now = now
        self._clock = clock
        self._metrics = metrics
        self._lock = threading.Lock()
        self._index = WatchlistIndex(())
        self._version: tuple[Any, ...] | None = None
        self._checked_at: float | None = None

    def load(self, timeout_s: float = 2.0) -> None:
        """Build the index now, before the first batch needs it, waiting at most ``timeout_s``
        for a connection; a failure is left for the first batch to meet (and retry)."""
        try:
            self._current_index(timeout_s)
        except (psycopg.Error, PoolTimeout) as error:
            log.warning("watchlists not loaded yet", error_class=type(error).__name__)

    def record(self, events: Sequence[PlateEvent]) -> int:
        """Record the hits of stored ``events``; returns the alerts opened."""
        started = time.perf_counter()
        try:
            index = self._current_index()
            if not index.size:
                return 0
            hits = self._hits(index, events)
            opened: list[tuple[str, str]] = []
            if hits:
                with self._pool.connection() as conn:
                    opened = record_hits(conn, hits, self._window)
        except (psycopg.OperationalError, PoolTimeout) as error:
            raise TransientError(f"database: {error}") from error
        self._metrics.match_seconds.observe(time.perf_counter() - started)
        self._metrics.count_opened(opened)
        return len(opened)

    def _hits(
        self, index: WatchlistIndex, events: Sequence[PlateEvent]
    ) -> list[tuple[ActiveEntry, PlateEvent]]:
        now = self._now()
        hits = []
        plates = [event.plate_normalized for event in events]
        for event, candidates in zip(events, index.candidates_of(plates), strict=True):
            if candidates:
                sighting = sighting_of(event)
                hits += [(entry, event) for entry in candidates if entry.allows(sighting, now)]
        return hits

    def _current_index(self, timeout_s: float | None = None) -> WatchlistIndex:
        """The index, rebuilt first when the lists changed since it was built."""
        with self._lock:
            if self._checked_at is not None and self._clock() - self._checked_at < self._refresh_s:
                return self._index
            with self._pool.connection(timeout=timeout_s) as conn:
                version = entries_version(conn)
                if version != self._version:
                    entries: list[ActiveEntry] = active_entries(conn)
                    self._index = WatchlistIndex(entries)
                    self._version = version
                    log.info("watchlists loaded", entries=self._index.size)
            self._checked_at = self._clock()
            return self._index
