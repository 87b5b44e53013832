"""Unique-plate sketches (``db/plate_sketches.py``): merged in any split, they count the
distinct plates exactly while there are a few hundred, and within their bounds beyond."""

from __future__ import annotations

from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from alpr_core.db.plate_sketches import SketchUnion, empty_sketch

PLATES = st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789", min_size=1, max_size=8)


def _merged(parts: list[list[str]]) -> SketchUnion:
    union = SketchUnion()
    for plates in parts:
        sketch = empty_sketch()
        for plate in plates:
            sketch.update(plate)
        union.add(sketch.serialize_compact())
    return union


@given(st.lists(st.lists(PLATES, max_size=60), min_size=1, max_size=6))
def test_a_few_hundred_plates_are_counted_exactly_in_any_split(parts: list[list[str]]) -> None:
    found = _merged(parts).unique_plates()
    assert round(found.estimate) == len({plate for part in parts for plate in part})


@settings(max_examples=20, deadline=None)
@given(st.integers(2_000, 30_000), st.integers(1, 8), st.randoms(use_true_random=False))
def test_many_plates_are_counted_within_the_bounds(distinct: int, parts: int, rng: Random) -> None:
    plates = [f"P{i:07d}" for i in range(distinct)]
    split: list[list[str]] = [[] for _ in range(parts)]
    for plate in plates:
        for _ in range(rng.randint(1, 3)):  # repeats count once
            split[rng.randrange(parts)].append(plate)
    found = _merged(split).unique_plates()
    assert found.lower_bound <= found.estimate <= found.upper_bound
    assert abs(found.estimate - distinct) <= 0.05 * distinct
