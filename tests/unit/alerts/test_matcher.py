"""The watchlist index finds exactly the entries a brute-force check over every entry finds, with
its own Levenshtein distance, for any entries and reads."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from alpr_core.alerts.matcher import (
    ActiveEntry,
    EntryMode,
    Sighting,
    WatchlistIndex,
)
from alpr_core.alerts.variant_index import deletion_variants
from alpr_core.events.parse import ocr_key

MODES: list[EntryMode] = ["exact", "fuzzy", "wildcard"]
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
# A small alphabet with look-alikes, so that random plates meet each other often.
PLATES = st.text(alphabet="AB08OQ1IS5", min_size=4, max_size=8)
LABELS = st.none() | st.frozensets(st.sampled_from(["a", "b"]), min_size=1)


def levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, char_b in enumerate(b, 1):
            previous, row[j] = (
                row[j],
                min(row[j] + 1, row[j - 1] + 1, previous + (char_a != char_b)),
            )
    return row[-1]


def plate_rule(entry: ActiveEntry, plate: str) -> bool:
    if entry.match_mode == "exact":
        return plate == entry.plate_normalized
    if entry.match_mode == "fuzzy":
        return levenshtein(ocr_key(plate), ocr_key(entry.plate_normalized)) <= entry.max_distance
    pattern = "".join("." if c == "?" else ".*" if c == "*" else c for c in entry.plate_normalized)
    return re.fullmatch(pattern, plate) is not None


@st.composite
def entries(draw: st.DrawFn) -> ActiveEntry:
    mode: EntryMode = draw(st.sampled_from(MODES))
    plate = draw(PLATES)
    if mode == "wildcard":
        cut = draw(st.integers(0, len(plate) - 3))
        plate = plate[cut : cut + 3] + draw(st.sampled_from(["*", "?", "*?", ""]))
        plate = draw(st.sampled_from(["", "*", "?"])) + plate
    start = draw(st.none() | st.just(NOW - timedelta(days=1)))
    return ActiveEntry(
        id=uuid.uuid4(),
        watchlist_id=uuid.uuid4(),
        plate_normalized=plate,
        match_mode=mode,
        max_distance=draw(st.integers(0, 2)) if mode == "fuzzy" else 0,
        valid_from=start,
        valid_until=draw(
            st.none() | st.sampled_from([NOW - timedelta(hours=1), NOW + timedelta(1)])
        ),
        cameras=draw(LABELS),
        sites=draw(LABELS),
        directions=draw(LABELS),
        hours_of_week=draw(st.none() | st.frozensets(st.integers(0, 167), min_size=1)),
        list_sites=draw(LABELS),
    )


SIGHTINGS = st.builds(
    Sighting,
    plate_normalized=PLATES,
    camera_id=st.sampled_from(["a", "b"]),
    site=st.none() | st.sampled_from(["a", "b"]),
    direction=st.none() | st.sampled_from(["a", "b"]),
    at=st.datetimes(
        min_value=datetime(2026, 5, 30), max_value=datetime(2026, 6, 3), timezones=st.just(UTC)
    ),
)


@given(st.lists(entries(), max_size=30), st.lists(SIGHTINGS, min_size=1, max_size=10))
def test_the_index_finds_what_checking_every_entry_finds(
    listed: list[ActiveEntry], sightings: list[Sighting]
) -> None:
    index = WatchlistIndex(listed)
    for sighting in sightings:
        found = {entry.id for entry in index.matches(sighting, NOW)}
        expected = {
            entry.id
            for entry in listed
            if plate_rule(entry, sighting.plate_normalized) and entry.allows(sighting, NOW)
        }
        assert found == expected


@given(st.lists(entries(), max_size=30), st.lists(PLATES, min_size=1, max_size=20))
def test_plates_looked_up_together_find_what_each_alone_finds(
    listed: list[ActiveEntry], plates: list[str]
) -> None:
    together = WatchlistIndex(listed).candidates_of(plates)
    alone = [WatchlistIndex(listed).candidates(plate) for plate in plates]
    assert [{e.id for e in c} for c in together] == [{e.id for e in c} for c in alone]
    for plate, candidates in zip(plates, together, strict=True):
        assert {e.id for e in candidates} == {e.id for e in listed if plate_rule(e, plate)}


def test_look_alikes_are_free_and_edits_count() -> None:
    fuzzy = ActiveEntry(uuid.uuid4(), uuid.uuid4(), "AB12CDE", "fuzzy", max_distance=1)
    index = WatchlistIndex([fuzzy])
    at = NOW - timedelta(minutes=1)

    def hit(plate: str) -> bool:
        return bool(index.matches(Sighting(plate, "cam", None, None, at), NOW))

    assert hit("A812CDE")  # B read as 8: a look-alike
    assert hit("AB12CD")  # one edit
    assert not hit("AB1CD")  # two edits


def test_an_expired_entry_stops_matching_even_for_a_read_inside_its_validity() -> None:
    expired = ActiveEntry(
        uuid.uuid4(), uuid.uuid4(), "AB12CDE", "exact", valid_until=NOW - timedelta(hours=1)
    )
    read_in_time = Sighting("AB12CDE", "cam", None, None, NOW - timedelta(hours=2))
    assert WatchlistIndex([expired]).matches(read_in_time, NOW) == []


def test_restrictions_apply_to_the_hour_of_the_week_in_utc() -> None:
    monday_9 = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)  # a Monday
    entry = ActiveEntry(
        uuid.uuid4(), uuid.uuid4(), "AB12CDE", "exact", hours_of_week=frozenset({9})
    )
    index = WatchlistIndex([entry])
    assert index.matches(Sighting("AB12CDE", "c", None, None, monday_9), NOW)
    later = monday_9 + timedelta(hours=1)
    assert not index.matches(Sighting("AB12CDE", "c", None, None, later), NOW)


def test_deletion_variants_include_the_key_and_each_deletion() -> None:
    assert deletion_variants("ABC", 1) == {"ABC", "BC", "AC", "AB"}
    assert len(deletion_variants("ABCDEFG", 2)) == 1 + 7 + 21
