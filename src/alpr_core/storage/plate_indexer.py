"""Move stored plates into the fuzzy-search dictionary in the background.

Wherever reads are written (the storage service, and every API process, since the API takes
HTTP ingest), this thread drains ``plate_texts_pending`` (``db/plate_texts.py``) every
``interval_s``: chunk after chunk, each in its own short transaction, until the backlog is empty,
so the dictionary keeps pace with ingest. A tick stops after ``tick_budget_s`` and the next one
starts an interval later, so a large backlog never takes the database from ingest for long.
Fuzzy search scans the pending rows meanwhile. A failed drain is logged and tried again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
import structlog

from alpr_core.db.plate_texts import DRAIN_PLATES, index_pending_plates

log = structlog.get_logger("alpr.plate_indexer")

TICK_BUDGET_S = 5.0  # the longest one tick drains before it pauses for an interval


def drain_backlog(
    index_chunk: Callable[[int], int],
    budget_s: float,
    clock: Callable[[], float],
    stopping: Callable[[], bool],
    chunk: int = DRAIN_PLATES,
) -> int:
    """Index chunks until one comes back short (nothing left that others have not locked), the
    budget is spent, or the indexer is stopping; return how many pending rows moved."""
    deadline = clock() + budget_s
    moved = 0
    while True:
        count = index_chunk(chunk)
        moved += count
        if count < chunk or clock() >= deadline or stopping():
            return moved


class PlateIndexer:
    def __init__(
        self,
        conninfo: str,
        interval_s: float = 1.0,
        tick_budget_s: float = TICK_BUDGET_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._conninfo = conninfo
        self._interval_s = interval_s
        self._tick_budget_s = tick_budget_s
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="plate-indexer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        conn: psycopg.Connection[tuple[object, ...]] | None = None
        while not self._stop.wait(self._interval_s):
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self._conninfo, autocommit=True)
                self.tick(conn)
            except psycopg.Error as error:
                log.warning("plate indexing failed; will try again", error=str(error))
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def tick(self, conn: psycopg.Connection[tuple[object, ...]]) -> int:
        """One tick over ``conn`` (autocommit): drain until the backlog is empty or the budget
        is spent; return how many pending rows moved."""
        return drain_backlog(
            lambda limit: index_pending_plates(conn, limit),
            self._tick_budget_s,
            self._clock,
            self._stop.is_set,
        )
