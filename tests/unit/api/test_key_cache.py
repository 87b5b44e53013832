"""The per-process key cache: what it keeps, and when it must not."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from alpr_core.api.key_cache import KeyCache
from alpr_core.db.api_keys import ApiKey

KEY = ApiKey(uuid4(), "k", "viewer", None, None, datetime.now(UTC), None)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def listening_cache(ttl_s: float = 60, clock: Clock | None = None) -> KeyCache:
    cache = KeyCache(ttl_s, clock=clock or Clock())
    cache.set_listening(True)
    return cache


def test_a_key_is_kept_while_listening() -> None:
    cache = listening_cache()
    cache.put(b"d", KEY, cache.generation)
    assert cache.get(b"d") == KEY


def test_nothing_is_kept_without_a_listener() -> None:
    cache = KeyCache(60, clock=Clock())
    cache.put(b"d", KEY, cache.generation)
    assert cache.get(b"d") is None


def test_a_lost_listener_forgets_everything() -> None:
    cache = listening_cache()
    cache.put(b"d", KEY, cache.generation)
    cache.set_listening(False)
    assert cache.get(b"d") is None


def test_a_change_during_a_lookup_discards_its_result() -> None:
    cache = listening_cache()
    before = cache.generation
    cache.forget_all()  # a revocation arrives while the lookup is in flight
    cache.put(b"d", KEY, before)
    assert cache.get(b"d") is None


def test_entries_expire() -> None:
    clock = Clock()
    cache = listening_cache(ttl_s=5, clock=clock)
    cache.put(b"d", KEY, cache.generation)
    clock.now += 4.9
    assert cache.get(b"d") == KEY
    clock.now += 0.2
    assert cache.get(b"d") is None


def test_a_ttl_of_zero_turns_caching_off() -> None:
    cache = listening_cache(ttl_s=0)
    cache.put(b"d", KEY, cache.generation)
    assert cache.get(b"d") is None


def test_an_unknown_token_is_remembered_until_its_time_is_up() -> None:
    clock = Clock()
    cache = KeyCache(60, unknown_ttl_s=10, clock=clock)
    cache.remember_unknown(b"bad")
    assert cache.is_unknown(b"bad")
    assert not cache.is_unknown(b"other")
    clock.now += 10
    assert not cache.is_unknown(b"bad")


def test_unknown_tokens_are_not_remembered_when_switched_off() -> None:
    cache = KeyCache(60, unknown_ttl_s=0, clock=Clock())
    cache.remember_unknown(b"bad")
    assert not cache.is_unknown(b"bad")
