"""The plates of the watchlists' active exact and fuzzy entries, for the simulator to replay in
``alpr run`` so that alerts fire (wildcard entries name no one plate)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import psycopg
import structlog

log = structlog.get_logger("alpr.simulator")


class ListedPlates:
    """Called for the current plates; rereads them at most every ``refresh_s``, and keeps the
    last ones while the database cannot be read."""

    def __init__(
        self,
        conninfo: str,
        refresh_s: float = 5.0,
        limit: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._conninfo = conninfo
        self._refresh_s = refresh_s
        self._limit = limit
        self._clock = clock
        self._plates: tuple[str, ...] = ()
        self._read_at: float | None = None

    def __call__(self) -> Sequence[str]:
        now = self._clock()
        if self._read_at is None or now - self._read_at >= self._refresh_s:
            self._read_at = now
            try:
                self._plates = self._read()
            except psycopg.Error as error:
                log.warning("listed plates not read", error_class=type(error).__name__)
        return self._plates

    def _read(self) -> tuple[str, ...]:
        with psycopg.connect(self._conninfo, connect_timeout=5) as conn:
            rows = conn.execute(
                "SELECT DISTINCT plate_normalized FROM watchlist_entries"
                " WHERE match_mode <> 'wildcard'"
                "   AND (valid_from IS NULL OR valid_from <= now())"
                "   AND (valid_until IS NULL OR valid_until > now())"
                " ORDER BY plate_normalized LIMIT %s",
                (self._limit,),
            ).fetchall()
        return tuple(str(row[0]) for row in rows)
