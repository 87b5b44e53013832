"""Watchlist bodies from hostile clients: anything is a valid model or a validation error (a 422),
never another exception; a valid entry always has a form its mode can match by."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from alpr_core.api.watchlist_csv import COLUMNS
from alpr_core.api.watchlist_models import EntryIn, WatchlistChange, WatchlistIn

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
ENTRY_KEYS = st.sampled_from([*COLUMNS, "extra"])
PLATES = st.text(alphabet="AB12?*-. xyzß", max_size=12)


@given(st.dictionaries(ENTRY_KEYS, JSON | PLATES, max_size=8))
def test_an_entry_body_is_valid_or_a_validation_error(body: dict[str, Any]) -> None:
    try:
        entry = EntryIn.model_validate(body)
    except ValidationError:
        return
    spec = entry.spec()
    assert spec.plate_normalized
    assert set(spec.plate_normalized) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789?*")


@given(
    st.fixed_dictionaries(
        {"plate": PLATES}, optional={"match_mode": st.sampled_from(["exact", "fuzzy", "wildcard"])}
    )
)
def test_plates_of_every_mode_are_valid_or_refused(body: dict[str, Any]) -> None:
    try:
        entry = EntryIn.model_validate(body)
    except ValidationError:
        return
    if entry.match_mode != "wildcard":
        assert "?" not in entry.spec().plate_normalized


@given(JSON)
def test_a_list_body_is_valid_or_a_validation_error(body: Any) -> None:
    for model in (WatchlistIn, WatchlistChange):
        try:
            made = model.model_validate(body)
        except ValidationError:
            continue
        assert made.model_dump(exclude_unset=True).keys() <= set(type(made).model_fields)
