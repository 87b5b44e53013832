"""Newest-first time windows, so a search that matches many reads stops at the newest ones.

A page of a broad search (prefix, wildcard) is the newest ``limit`` matches. Asked of the whole
table at once, PostgreSQL finds every match in every partition, then sorts them all: a common
substring can match far more reads than a page holds (docs/decisions.md#time-windows). Asked as
disjoint windows, newest first (the day so far, then two days, then four, ...) joined by
``UNION ALL`` under one ``LIMIT``, each window is planned for its own partitions, and the windows
past the one that fills the page are never run. ``queries.page_queries`` puts the first week's
windows in one statement and the rest in a second, run only when the first falls short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Where each window ends, in whole days back from the start (UTC) of the newest day asked for:
# that day, then 2 days, 4, 8, 16, 32; one last window holds everything older. Edges fall on
# midnight UTC, where partitions and TimescaleDB's day chunks begin, so a window never cuts a
# partition (a cut makes the planner AND the time index into the search, a 345,000-row bitmap).
WINDOW_EDGES_DAYS = (0, 2, 6, 14, 30, 62)


@dataclass(frozen=True, slots=True)
class Window:
    """``since <= timestamp < until``; None is open on that side."""

    since: datetime | None
    until: datetime | None


def newest_first(newest: datetime, oldest: datetime | None) -> list[Window]:
    """Disjoint windows covering every time up to ``oldest`` (all, when None), newest first. The
    first is open above, since reads may carry times later than ``newest``."""
    windows: list[Window] = []
    until: datetime | None = None
    day = newest.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for days in WINDOW_EDGES_DAYS:
        try:
            since = day - timedelta(days=days)
        except OverflowError:  # before year 1: the last window, open below, holds the rest
            break
        if oldest is not None and since <= oldest:
            break
        windows.append(Window(since, until))
        until = since
    windows.append(Window(None, until))
    return windows
