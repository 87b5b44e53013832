"""Watchlist CSV from hostile clients: any bytes are entries, rejected lines or an unreadable file,
never another exception; what the exporter writes, the importer reads back unchanged."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alpr_core.api.watchlist_csv import (
    COLUMNS,
    UnreadableCsvError,
    entry_lines,
    parse_entries,
)
from alpr_core.api.watchlist_models import EntryIn
from alpr_core.db.watchlists import EntryMode, EntrySpec

MODES: list[EntryMode] = ["exact", "fuzzy", "wildcard"]
TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=30)
LABEL = TEXT.map(str.strip).filter(lambda label: label and ";" not in label)
LABELS = st.none() | st.lists(LABEL, min_size=1, max_size=3)
MOMENT = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


def parse(text: str, max_entries: int = 1000) -> tuple[list[EntrySpec], list[tuple[int, str]]]:
    parsed = parse_entries(text.encode(), max_entries)
    return parsed.entries, [(line.line, "; ".join(line.errors)) for line in parsed.rejected]


@given(st.binary(max_size=400))
def test_any_bytes_are_entries_rejections_or_an_unreadable_file(data: bytes) -> None:
    try:
        parsed = parse_entries(data, 50)
    except UnreadableCsvError:
        return
    assert len(parsed.entries) + len(parsed.rejected) <= 50


@given(st.lists(st.lists(TEXT | st.sampled_from(["AB12CDE", "fuzzy", "1", "x;y"]), max_size=13)))
def test_any_cells_under_a_good_header_are_entries_or_rejected_lines(
    rows: list[list[str]],
) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([list(COLUMNS), *rows])
    try:
        parsed = parse_entries(buffer.getvalue().encode(), 1000)
    except UnreadableCsvError:
        return
    lines = [line.line for line in parsed.rejected]
    assert lines == sorted(set(lines))
    assert all(line > 1 for line in lines)


@st.composite
def entries(draw: st.DrawFn) -> EntryIn:
    mode: EntryMode = draw(st.sampled_from(MODES))
    pattern = r"[A-Z0-9]{4,8}" if mode != "wildcard" else r"[A-Z0-9]{3,5}\*"
    plate = draw(st.from_regex(pattern, fullmatch=True))
    start = draw(st.none() | MOMENT)
    return EntryIn(
        plate=plate,
        match_mode=mode,
        max_distance=draw(st.integers(0, 2)) if mode == "fuzzy" else 0,
        reason=draw(TEXT).strip()[:500],
        reference=draw(TEXT).strip()[:200],
        valid_from=start,
        valid_until=start + timedelta(days=draw(st.integers(1, 999))) if start else None,
        cameras=draw(LABELS),
        sites=draw(LABELS),
        directions=draw(LABELS),
        hours_of_week=draw(st.none() | st.lists(st.integers(0, 167), min_size=1, max_size=5)),
    )


@given(
    st.lists(entries(), max_size=6, unique_by=lambda e: (e.spec().plate_normalized, e.reference))
)
def test_an_export_reads_back_to_the_same_entries(written: list[EntryIn]) -> None:
    specs = [entry.spec() for entry in written]
    text = "".join(entry_lines(specs))
    read, rejected = parse(text)
    assert rejected == []
    assert read == specs


def test_formula_cells_are_guarded_and_read_back() -> None:
    spec = EntryIn(plate="AB12CDE", reason="=HYPERLINK(1)", reference="'quoted").spec()
    text = "".join(entry_lines([spec]))
    assert ",'=HYPERLINK(1),''quoted," in text
    assert parse(text)[0] == [spec]


def test_a_bad_line_is_rejected_with_its_number_and_the_others_count() -> None:
    text = "plate,match_mode,max_distance\nAB12CDE\nX,exact\nA?,wildcard\nCD34EFG,fuzzy,1\n"
    read, rejected = parse(text)
    assert [spec.plate_normalized for spec in read] == ["AB12CDE", "CD34EFG"]
    assert [line for line, _ in rejected] == [3, 4]
    assert "2 letters or digits" in rejected[0][1]


def test_a_repeated_plate_and_reference_names_the_first_line() -> None:
    read, rejected = parse("plate,reference\nAB12CDE,case 1\nab-12 cde,case 1\nAB12CDE,case 2\n")
    assert len(read) == 2
    assert rejected == [(3, "repeats the plate and reference of line 2")]


def test_a_quoted_newline_counts_lines_as_the_file_has_them() -> None:
    read, rejected = parse('plate,reason\nAB12CDE,"two\nlines"\nX\n')
    assert read[0].reason == "two\nlines"
    assert rejected[0][0] == 4


def test_extra_cells_are_a_rejected_line() -> None:
    assert parse("plate\nAB12CDE,more\n")[1] == [(2, "2 cells for 1 columns")]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\xff\xfeplate\n", "not UTF-8"),
        (b"plate\nAB\x0012\n", "NUL"),
        (b"number,plate\n", "unknown columns: number"),
        (b"plate,plate\n", "named twice"),
        (b"reason\nstolen\n", "plate among them"),
    ],
)
def test_an_unreadable_file_says_why(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableCsvError, match=reason):
        parse_entries(data, 10)


def test_more_entries_than_allowed_is_unreadable() -> None:
    with pytest.raises(UnreadableCsvError, match="more than 2 entries"):
        parse("plate\nAB12CDE\nAB12CDF\nAB12CDG\n", max_entries=2)


def test_a_byte_order_mark_and_blank_lines_are_ignored() -> None:
    parsed = parse_entries("\ufeffPlate\n\nAB12CDE\n , \n".encode(), 10)
    assert ([spec.plate for spec in parsed.entries], parsed.rejected) == (["AB12CDE"], [])
