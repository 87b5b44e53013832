"""One indexer tick: chunk after chunk until the backlog is empty, the budget spent, or stop."""

from __future__ import annotations

import pytest

from alpr_core.jobs.plate_indexer import drain_backlog


class Backlog:
    """Pending rows drained in chunks; each chunk advances a fake clock by ``chunk_s``."""

    def __init__(self, rows: int, chunk_s: float = 0.0) -> None:
        self.rows = rows
        self.chunks = 0
        self.now_s = 0.0
        self._chunk_s = chunk_s

    def index(self, limit: int) -> int:
        moved = min(limit, self.rows)
        self.rows -= moved
        self.chunks += 1
        self.now_s += self._chunk_s
        return moved

    def clock(self) -> float:
        return self.now_s


@pytest.mark.parametrize(
    ("rows", "moved", "chunks"),
    [
        pytest.param(0, 0, 1, id="nothing pending: one empty chunk"),
        pytest.param(250, 250, 3, id="a partial last chunk ends the tick"),
        pytest.param(300, 300, 4, id="an exact multiple needs one empty chunk to tell"),
    ],
)
def test_a_tick_drains_the_whole_backlog(rows: int, moved: int, chunks: int) -> None:
    backlog = Backlog(rows)

    assert drain_backlog(backlog.index, 10.0, backlog.clock, lambda: False, chunk=100) == moved

    assert backlog.rows == 0
    assert backlog.chunks == chunks


def test_a_tick_stops_once_its_budget_is_spent() -> None:
    backlog = Backlog(10_000, chunk_s=0.4)

    moved = drain_backlog(backlog.index, 1.0, backlog.clock, lambda: False, chunk=100)

    assert (moved, backlog.chunks) == (300, 3)  # 0.4, 0.8, then 1.2 s is past the budget
    assert backlog.rows == 9_700


def test_a_tick_stops_when_the_indexer_stops() -> None:
    backlog = Backlog(10_000)

    assert drain_backlog(backlog.index, 10.0, backlog.clock, lambda: True, chunk=100) == 100
    assert backlog.chunks == 1


def test_a_zero_budget_drains_one_chunk_a_tick() -> None:
    backlog = Backlog(10_000)

    assert drain_backlog(backlog.index, 0.0, backlog.clock, lambda: False, chunk=100) == 100
