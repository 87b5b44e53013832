"""API keys remembered per process, so most requests cost one database round trip, not two.

A key found in the database is kept only while this process is listening for changes to
``api_keys``: a trigger sends ``NOTIFY alpr_api_keys`` on every update or delete (a revocation),
and the listener then forgets every key at once. Without a live listener nothing is cached. An
entry also expires after ``API_KEY_CACHE_TTL_S`` seconds, in case a connection dies silently.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import psycopg
import structlog

from alpr_core.db.api_keys import ApiKey

log = structlog.get_logger("alpr.api.keys")

KEYS_CHANNEL = "alpr_api_keys"
MAX_ENTRIES = 10_000  # per kind (valid, unknown): a bound in case there are very many


class KeyCache:
    def __init__(
        self, ttl_s: float, unknown_ttl_s: float = 0.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl_s = ttl_s
        self._unknown_ttl_s = unknown_ttl_s
        self._clock = clock
        self._entries: dict[bytes, tuple[ApiKey, float]] = {}
        self._unknown: dict[bytes, float] = {}
        self._generation = 0
        self._listening = False

    @property
    def generation(self) -> int:
        """Read before a lookup and pass to ``put``: a change in between discards the result."""
        return self._generation

    def get(self, digest: bytes) -> ApiKey | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self._entries[digest]
            return None
        return entry[0]

    def put(self, digest: bytes, key: ApiKey, generation: int) -> None:
        if not self._listening or generation != self._generation or self._ttl_s <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[digest] = (key, self._clock() + self._ttl_s)

    def remember_unknown(self, digest: bytes) -> None:
        """A token no valid key has: its next lookups within ``unknown_ttl_s`` skip the database
        (a key is never created for a token someone tried, so nothing can make it valid)."""
        if self._unknown_ttl_s <= 0:
            return
        if len(self._unknown) >= MAX_ENTRIES:
            self._unknown.clear()
        self._unknown[digest] = self._clock() + self._unknown_ttl_s

    def is_unknown(self, digest: bytes) -> bool:
        until = self._unknown.get(digest)
        if until is None:
            return False
        if until <= self._clock():
            del self._unknown[digest]
            return False
        return True

    def forget_all(self) -> None:
        self._generation += 1
        self._entries.clear()

    def set_listening(self, listening: bool) -> None:
        self._listening = listening
        self.forget_all()


async def listen_for_key_changes(
    conninfo: str, cache: KeyCache, first_retry_s: float = 1.0, max_retry_s: float = 30.0
) -> None:
    """Keep ``cache`` in step with ``api_keys`` until cancelled; reconnect after any failure,
    waiting twice as long after each failed attempt (up to ``max_retry_s``)."""
    retry_s = first_retry_s
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {KEYS_CHANNEL}")
                cache.set_listening(True)
                retry_s = first_retry_s
                async for _notice in conn.notifies():
                    cache.forget_all()
        except (psycopg.Error, OSError) as exc:
            log.warning(
                "API key listener lost its connection; caching keys off",
                error=type(exc).__name__,
                retry_in_s=retry_s,
            )
        finally:
            cache.set_listening(False)
        await asyncio.sleep(retry_s)
        retry_s = min(retry_s * 2, max_retry_s)
