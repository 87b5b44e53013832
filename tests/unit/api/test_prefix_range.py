"""Prefix search is a byte range over normalized plates; it must select exactly what LIKE would."""

from __future__ import annotations

import itertools

import pytest

from alpr_core.api.search import MatchMode, plate_match

_PLATE_CHARS = "0189AYZ"  # the alphabet's ends, and digits next to letters in byte order


@pytest.mark.parametrize("term", ["AY", "AZ", "Z9", "99", "A9Z", "ZZZ", "0A0"])
def test_the_range_holds_exactly_the_plates_that_start_with_the_term(term: str) -> None:
    match = plate_match(MatchMode.PREFIX, term)
    low, high = match.params["prefix"], match.params["following_prefix"]
    plates = ["".join(p) for n in range(1, 5) for p in itertools.product(_PLATE_CHARS, repeat=n)]
    in_range = {p for p in plates if low.encode() <= p.encode() < high.encode()}
    assert in_range == {p for p in plates if p.startswith(term)}
    assert in_range  # the alphabet holds plates with each term


def test_the_term_is_normalized_first() -> None:
    match = plate_match(MatchMode.PREFIX, "ab-9")
    assert (match.params["prefix"], match.params["following_prefix"]) == ("AB9", "AB:")
