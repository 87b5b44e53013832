from __future__ import annotations

import math

import pytest

from alpr_core.ingest.rate_limit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_new_key_has_its_whole_burst(clock: Clock) -> None:
    limiter = RateLimiter(rate_per_s=2.0, burst=5, clock=clock)
    assert limiter.take("k", 5) == 0
    assert limiter.take("k", 1) == pytest.approx(0.5)


def test_a_refused_take_takes_nothing_and_says_how_long_to_wait(clock: Clock) -> None:
    limiter = RateLimiter(rate_per_s=2.0, burst=5, clock=clock)
    limiter.take("k", 4)
    assert limiter.take("k", 3) == pytest.approx(1.0)  # 1 left, 2 missing at 2/s
    clock.now += 1.0
    assert limiter.take("k", 3) == 0


def test_tokens_refill_with_time_up_to_the_burst(clock: Clock) -> None:
    limiter = RateLimiter(rate_per_s=10.0, burst=5, clock=clock)
    limiter.take("k", 5)
    clock.now += 60
    assert limiter.take("k", 5) == 0
    assert limiter.peek("k", 1) == pytest.approx(0.1)


def test_more_than_the_burst_never_fits(clock: Clock) -> None:
    limiter = RateLimiter(rate_per_s=10.0, burst=5, clock=clock)
    assert math.isinf(limiter.take("k", 6))
    assert limiter.take("k", 5) == 0  # the refused request took nothing


def test_peek_takes_nothing_and_keys_are_independent(clock: Clock) -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=1, clock=clock)
    assert limiter.peek("a") == 0
    assert limiter.take("a", 1) == 0
    assert limiter.peek("a") == pytest.approx(1.0)
    assert limiter.take("b", 1) == 0


def test_a_clock_going_back_does_not_add_tokens(clock: Clock) -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=2, clock=clock)
    limiter.take("k", 2)
    clock.now -= 50
    assert limiter.peek("k") == pytest.approx(1.0)
