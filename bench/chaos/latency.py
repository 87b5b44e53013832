"""Produce-to-queryable time: a thread polls PostgreSQL for the sampled event ids."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg

from bench.chaos.ledger import Ledger

POLL_S = 0.25


class LatencyProbe(threading.Thread):
    def __init__(self, conninfo: str, ledger: Ledger) -> None:
        super().__init__(name="latency-probe", daemon=True)
        self._conninfo = conninfo
        self._ledger = ledger
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(POLL_S):
            try:
                self._poll()
            except psycopg.Error:
                continue  # PostgreSQL stopped on purpose: the samples wait

    def _poll(self) -> None:
        with self._ledger.lock:
            pending = [uuid.UUID(e) for e in self._ledger.samples]
        if not pending:
            return
        with psycopg.connect(self._conninfo, connect_timeout=2) as conn:
            rows = conn.execute(
                "SELECT event_id FROM plate_detections WHERE event_id = ANY(%s)", (pending,)
            ).fetchall()
        now = time.monotonic()
        for (event_id,) in rows:
            self._ledger.found(str(event_id), now)


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]
