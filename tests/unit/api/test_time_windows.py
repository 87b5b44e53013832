"""The newest-first windows a broad search walks through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

from alpr_core.api.time_windows import Window, newest_first

NOW = datetime(2026, 11, 29, 12, 30, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 29, tzinfo=UTC)


def days_before_today(days: int) -> datetime:
    return MIDNIGHT - timedelta(days=days)


def test_windows_start_at_midnight_utc_widen_going_back_and_cover_all_time() -> None:
    windows = newest_first(NOW, None)
    assert windows[0] == Window(MIDNIGHT, None)
    assert windows[1] == Window(days_before_today(2), MIDNIGHT)
    assert windows[2] == Window(days_before_today(6), days_before_today(2))
    assert windows[-1] == Window(None, days_before_today(62))
    for newer, older in pairwise(windows):
        assert older.until == newer.since  # no gap, no overlap


def test_edges_are_utc_days_whatever_the_zone_asked_in() -> None:
    eastern = NOW.astimezone(timezone(timedelta(hours=-5))).replace(hour=21)  # 02:30 UTC next day
    assert newest_first(eastern, None)[0].since == MIDNIGHT + timedelta(days=1)


def test_an_oldest_time_ends_the_walk() -> None:
    windows = newest_first(NOW, days_before_today(5))
    assert windows == [
        Window(MIDNIGHT, None),
        Window(days_before_today(2), MIDNIGHT),
        Window(None, days_before_today(2)),  # the query's own start_time bounds it
    ]


def test_a_range_within_the_newest_day_is_one_window() -> None:
    assert newest_first(NOW, MIDNIGHT + timedelta(hours=1)) == [Window(None, None)]


def test_windows_near_year_one_end_with_the_open_window() -> None:
    """An end_time or cursor in the first days of year 1 (a 500 before: the window edges
    overflowed ``datetime``)."""
    windows = newest_first(datetime(1, 1, 3, 5, tzinfo=UTC), None)
    assert windows == [
        Window(datetime(1, 1, 3, tzinfo=UTC), None),
        Window(datetime(1, 1, 1, tzinfo=UTC), datetime(1, 1, 3, tzinfo=UTC)),
        Window(None, datetime(1, 1, 1, tzinfo=UTC)),
    ]
