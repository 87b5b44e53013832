"""Finding the key of a request's token: remembered keys first, the database only on a miss.

A token that matches no valid key is answered 401 and remembered for a while, and each client
address may fail lookups only at a bounded rate (then 429), so guessing tokens costs the database
little and the guesser much.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from alpr_core.api.key_cache import KeyCache
from alpr_core.api.problems import Problem
from alpr_core.db.api_keys import ApiKey, token_hash
from alpr_core.ingest.rate_limit import RateLimiter

API_KEY_HEADER = "X-API-Key"
SelectKey = Callable[[bytes], Awaitable[ApiKey | None]]
Client = Callable[[], str | None]  # the client address, worked out only when a lookup fails


def _utc_now() -> datetime:
    return datetime.now(UTC)


class KeyLookup:
    def __init__(
        self, cache: KeyCache, failures: RateLimiter, now: Callable[[], datetime] = _utc_now
    ) -> None:
        self.cache = cache
        self._failures = failures
        self._now = now

    async def key_of(self, token: str | None, client: Client, select: SelectKey) -> ApiKey:
        """The valid key of ``token``; ``select`` looks a hash up in the database."""
        if not token:
            detail = f"Send an API key in the {API_KEY_HEADER} header."
            raise Problem(401, "API key required", detail)
        digest = token_hash(token)
        key = self.cache.get(digest)
        if key is not None and (key.expires_at is None or not key.expired(self._now())):
            return key
        self._refuse_if_over_rate(client)
        if self.cache.is_unknown(digest):
            raise self._failed(client)
        generation = self.cache.generation
        key = await select(digest)
        if key is None:
            self.cache.remember_unknown(digest)
            raise self._failed(client)
        self.cache.put(digest, key, generation)
        return key

    def _refuse_if_over_rate(self, client: Client) -> None:
        wait_s = self._failures.peek(client())
        if wait_s > 0:
            detail = "This address sent too many unknown keys; slow down."
            retry_after = {"Retry-After": str(math.ceil(wait_s))}
            raise Problem(429, "Too many failed key lookups", detail, headers=retry_after)

    def _failed(self, client: Client) -> Problem:
        self._failures.take(client(), 1)
        return Problem(401, "Invalid API key", "The API key is unknown, expired or revoked.")
