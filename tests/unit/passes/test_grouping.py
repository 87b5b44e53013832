"""Passes from reads (``passes/grouping.py``): reads arriving in time order, in any batches,
make the passes the rule makes over all reads at once, checked against a brute-force model of
the rule; any arrival order counts every read once; the consensus folds look-alikes; a hostile
edge cannot grow a pass without bound."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from random import Random

from hypothesis import given
from hypothesis import strategies as st

from alpr_core.passes.grouping import (
    MAX_KEYS,
    MAX_VOTES,
    HourKey,
    Pass,
    PassRead,
    consensus,
    count_changes,
    hour_of,
    join_reads,
    windows,
)
from tests.unit.passes.rule_model import GAP, model_summary, summary

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


def read(
    n: int,
    second: int,
    *,
    camera: str = "cam-1",
    track: str = "t1",
    plate: str = "AB12CDE",
    confidence: float = 0.5,
) -> PassRead:
    return PassRead(
        f"{n:08d}-0000-4000-8000-000000000000",
        T0 + timedelta(seconds=second),
        camera,
        "site-1",
        track,
        plate,
        plate,
        confidence,
    )


class Store:
    """The passes table, as ``db/passes.py`` keeps it: each batch sees the stored passes in its
    windows, and the changes are applied."""

    def __init__(self) -> None:
        self.passes: dict[int, Pass] = {}
        self.counted: Counter[HourKey] = Counter()  # pass_rollups
        self._next_id = 1

    def add(self, reads: Sequence[PassRead]) -> None:
        spans = windows(reads, GAP)
        near = [
            p
            for p in self.passes.values()
            if any(
                p.camera_id == camera and p.last_seen >= low and p.first_seen <= high
                for camera, low, high in spans
            )
        ]
        changes = join_reads(near, reads, GAP)
        self.counted.update(count_changes(near, changes))
        for gone in changes.merged_away:
            del self.passes[gone]
        for written in changes.written:
            stored = written
            if written.id is None:
                stored = replace(written, id=self._next_id)
                self._next_id += 1
            assert stored.id is not None
            self.passes[stored.id] = stored


READS = st.lists(
    st.tuples(
        st.integers(0, 600),  # second
        st.sampled_from(["cam-1", "cam-2"]),
        st.sampled_from(["t1", "t2", "t3"]),
        st.sampled_from(["AB12CDE", "A812CDE", "XY99ZZZ"]),  # the first two are look-alikes
        st.integers(1, 8),  # confidence in eighths: sums are exact
    ),
    min_size=1,
    max_size=40,
)


def as_reads(drawn: list[tuple[int, str, str, str, int]]) -> list[PassRead]:
    return [
        read(n, second, camera=camera, track=track, plate=plate, confidence=eighths / 8)
        for n, (second, camera, track, plate, eighths) in enumerate(drawn)
    ]


@given(READS, st.lists(st.integers(1, 10), min_size=1, max_size=40))
def test_reads_in_time_order_make_the_passes_of_the_rule_in_any_batches(
    drawn: list[tuple[int, str, str, str, int]], batch_sizes: list[int]
) -> None:
    reads = sorted(as_reads(drawn), key=lambda r: (r.at, r.event_id))
    store = Store()
    start = 0
    for size in batch_sizes * len(reads):
        if start >= len(reads):
            break
        store.add(reads[start : start + size])
        start += size
    assert summary(store.passes.values()) == model_summary(reads)


@given(READS, st.randoms(use_true_random=False))
def test_any_arrival_order_counts_every_read_once(
    drawn: list[tuple[int, str, str, str, int]], random: Random
) -> None:
    reads = as_reads(drawn)
    random.shuffle(reads)
    store = Store()
    for r in reads:
        store.add([r])
    assert sum(p.read_count for p in store.passes.values()) == len(reads)
    everything = Store()
    everything.add(reads)
    # late reads may join a pass around them: never more passes than reads arriving in order
    assert len(store.passes) <= len(everything.passes)


@given(
    st.lists(
        st.tuples(st.integers(-300, 300), st.sampled_from(["cam-1", "cam-2"]), st.integers(0, 2)),
        min_size=1,
        max_size=30,
    ),
    st.randoms(use_true_random=False),
    st.integers(1, 5),
)
def test_the_counts_per_hour_follow_every_change_in_any_order(
    drawn: list[tuple[int, str, int]], random: Random, batch: int
) -> None:
    """Reads around an hour's start (T0), late or not, joining and merging passes: the counts
    kept from each batch's changes are the passes kept, per hour of their first read."""
    reads = [
        read(n, second, camera=camera, track=f"t{track}")
        for n, (second, camera, track) in enumerate(drawn)
    ]
    random.shuffle(reads)
    store = Store()
    for start in range(0, len(reads), batch):
        store.add(reads[start : start + batch])
    kept = Counter(hour_of(p) for p in store.passes.values())
    assert +store.counted == kept
    assert not -store.counted, "no count below zero"


def test_a_read_bridging_two_passes_merges_them_into_the_older_one() -> None:
    store = Store()
    store.add([read(1, 0, track="a"), read(2, 100, track="b", plate="XY99ZZZ")])
    first, _second = sorted(store.passes)
    store.add([read(3, 50, track="a", plate="XY99ZZZ")])  # late: track a, plate of the second
    assert list(store.passes) == [first]
    merged = store.passes[first]
    assert (merged.first_seen, merged.last_seen, merged.read_count) == (
        T0,
        T0 + timedelta(seconds=100),
        3,
    )


def test_the_best_read_has_the_highest_confidence_and_the_consensus_folds_look_alikes() -> None:
    store = Store()
    store.add(
        [
            read(1, 0, plate="AB12CDE", confidence=0.5),
            read(2, 1, plate="A812CDE", confidence=0.75),  # a look-alike of the first
            read(3, 2, plate="XY12CDE", confidence=1.0),  # one misread, the most confident
        ]
    )
    (p,) = store.passes.values()
    assert p.best.event_id.startswith("00000003")
    assert p.plate_normalized == "A812CDE", "1.25 for the look-alike group against 1.0"
    assert p.plate_text == "A812CDE"


def test_consensus_is_the_heaviest_text_of_the_heaviest_group_and_ignores_order() -> None:
    votes = {"AB12CDE": 0.625, "A812CDE": 0.5, "XYZ": 1.0}
    assert consensus(votes) == "AB12CDE"
    assert consensus(dict(reversed(votes.items()))) == "AB12CDE"
    assert consensus({"Y": 0.5, "X": 0.5}) == "X", "a tie goes to the smaller key, then text"


def test_a_hostile_edge_cannot_grow_a_pass_without_bound() -> None:
    store = Store()
    for n in range(MAX_KEYS * 3):  # one track, a new text every read, one second apart
        store.add([read(n, n, plate=f"AB{n:04d}", confidence=0.5)])
    (p,) = store.passes.values()
    assert p.read_count == MAX_KEYS * 3
    assert len(p.keys) <= MAX_KEYS
    assert len(p.votes) <= MAX_VOTES


def test_reads_of_other_cameras_or_past_the_gap_are_other_passes() -> None:
    store = Store()
    store.add([read(1, 0), read(2, 30, camera="cam-2"), read(3, 61)])
    assert summary(store.passes.values()) == {
        ("cam-1", T0, T0, 1),
        ("cam-2", T0 + timedelta(seconds=30), T0 + timedelta(seconds=30), 1),
        ("cam-1", T0 + timedelta(seconds=61), T0 + timedelta(seconds=61), 1),
    }
