"""A token bucket per key (an API key, a client address): ``rate_per_s`` on average, ``burst``
at once.

Pure logic with an injected clock. One limiter lives in each API process, so with several
processes each key gets that rate from each of them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    rate_per_s: float
    capacity: float
    tokens: float
    updated_at: float

    def refill(self, now: float) -> None:
        elapsed = max(now - self.updated_at, 0.0)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate_per_s)
        self.updated_at = now

    def wait_s(self, cost: float) -> float:
        """Seconds until ``cost`` tokens are there: 0 now, ``inf`` if they never fit."""
        if cost > self.capacity:
            return math.inf
        return max(cost - self.tokens, 0.0) / self.rate_per_s


class RateLimiter:
    """Buckets by key, created full on a key's first request."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = 100_000,
    ) -> None:
        self._rate_per_s = rate_per_s
        self._burst = float(burst)
        self._clock = clock
        self._max_buckets = max_buckets
        self._buckets: dict[Hashable, TokenBucket] = {}

    def peek(self, key: Hashable, cost: int = 1) -> float:
        """Seconds until ``cost`` events would be allowed; takes nothing."""
        return self._bucket(key).wait_s(cost)

    def take(self, key: Hashable, cost: int) -> float:
        """Take ``cost`` tokens and return 0, or take nothing and return the seconds to wait."""
        bucket = self._bucket(key)
        wait_s = bucket.wait_s(cost)
        if wait_s == 0:
            bucket.tokens -= cost
        return wait_s

    def _bucket(self, key: Hashable) -> TokenBucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._make_room(now)
            bucket = self._buckets[key] = TokenBucket(
                self._rate_per_s, self._burst, self._burst, now
            )
        bucket.refill(now)
        return bucket

    def _make_room(self, now: float) -> None:
        """Forget full buckets (they start full again anyway) once there are too many."""
        if len(self._buckets) < self._max_buckets:
            return
        for key, bucket in list(self._buckets.items()):
            bucket.refill(now)
            if bucket.tokens >= bucket.capacity:
                del self._buckets[key]
        if len(self._buckets) >= self._max_buckets:
            self._buckets.clear()
