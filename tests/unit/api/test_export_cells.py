"""CSV cells of an export: any text a camera or edge sent comes back unchanged through a CSV
reader, except that a spreadsheet would never run it as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from alpr_core.api.export import columns_of, csv_cell, flatten
from alpr_core.api.routes.passes import PassSummary

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _round_trip(cells: list[str]) -> list[str]:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return next(csv.reader(io.StringIO(out.getvalue(), newline="")))


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_text_survives_a_csv_reader_and_never_starts_a_formula(texts: list[str]) -> None:
    read = _round_trip([csv_cell(text) for text in texts])
    for text, cell in zip(texts, read, strict=True):
        assert not cell.startswith(_FORMULA)
        assert cell == (f"'{text}" if text.startswith(_FORMULA) else text)


def test_values_that_are_not_text_are_written_plainly() -> None:
    assert csv_cell(None) == ""
    assert csv_cell(-0.5) == "-0.5"  # a number is not a formula
    assert csv_cell(datetime(2026, 12, 5, 10, 0, tzinfo=UTC)) == "2026-12-05T10:00:00Z"
    assert csv_cell(["in", "out"]) == '["in","out"]'


@given(
    st.recursive(
        st.none() | st.integers() | st.text(),
        lambda inner: st.dictionaries(
            st.text(alphabet="abc", min_size=1, max_size=3), inner, max_size=3
        ),
        max_leaves=10,
    )
)
def test_flattening_keeps_every_leaf_once(value: Any) -> None:
    nested = {"x": value}
    flat = flatten(nested)
    assert sorted(map(repr, flat.values())) == sorted(map(repr, _leaves(nested)))


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for inner in value.values() for leaf in _leaves(inner)] if value else []
    return [value]


def test_a_pass_has_one_column_per_leaf() -> None:
    columns = columns_of(PassSummary)
    assert "vehicle.color" in columns
    assert "best_read.image_url" in columns
    assert len(columns) == len(set(columns))
