"""Move stored plates into the fuzzy-search dictionary in the background, once a second.

Wherever reads are written (the storage service, and every API process, since the API takes
HTTP ingest), this thread drains ``plate_texts_pending`` at a bounded rate
(``db/plate_texts.py``), so a burst of new plates never takes the database from ingest; the rest
waits for the next tick.
Fuzzy search scans the pending rows meanwhile. A failed drain is logged and tried again.
"""

from __future__ import annotations

import threading

import psycopg
import structlog

from alpr_core.db.plate_texts import index_pending_plates

log = structlog.get_logger("alpr.plate_indexer")


class PlateIndexer:
    def __init__(self, conninfo: str, interval_s: float = 1.0) -> None:
        self._conninfo = conninfo
        self._interval_s = interval_s
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
                index_pending_plates(conn)
            except psycopg.Error as error:
                log.warning("plate indexing failed; will try again", error=str(error))
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()
