"""Move stored plates into the fuzzy-search dictionary in the background.

Wherever reads are written (the storage service, and every API process, since the API takes
HTTP ingest), this thread drains ``plate_texts_pending`` (``db/plate_texts.py``) every
``interval_s``: chunk after chunk, each in its own short transaction, until the backlog is empty,
so the dictionary keeps pace with ingest. A tick stops after ``tick_budget_s`` and the next one
starts an interval later, so a large backlog never takes the database from ingest for long.
Fuzzy search scans the pending rows meanwhile. A failed drain is logged and tried again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
import structlog

from alpr_core.db.plate_texts import DRAIN_PLATES, index_pending_plates
from alpr_core.jobs.periodic import PeriodicJob

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


class PlateIndexer(PeriodicJob):
    def __init__(
        self,
        conninfo: str,
        interval_s: float = 1.0,
        tick_budget_s: float = TICK_BUDGET_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__("plate-indexer", interval_s, run_at_start=False)
        self._conninfo = conninfo
        self._tick_budget_s = tick_budget_s
        self._clock = clock
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def run_once(self) -> None:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self._conninfo, autocommit=True)
            self.tick(self._conn)
        except psycopg.Error as error:
            log.warning("plate indexing failed; will try again", error=str(error))
            self.closed()

    def closed(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def tick(self, conn: psycopg.Connection[tuple[object, ...]]) -> int:
        """One tick over ``conn`` (autocommit): drain until the backlog is empty or the budget
        is spent; return how many pending rows moved."""
        return drain_backlog(
            lambda limit: index_pending_plates(conn, limit),
            self._tick_budget_s,
            self._clock,
            self.stopping,
        )
