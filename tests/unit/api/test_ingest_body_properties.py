"""Property: any JSON body gives its items (each as json.loads builds it, or a TooDeepItem when
nested past the cap) or a 400/413/422 problem, nothing else, whatever its depth.

The suite runs a fixed set of examples; for many more:
``HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/unit -k properties``.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from alpr_core.api.ingest_body import json_items
from alpr_core.api.problems import Problem
from alpr_core.events.parse import MAX_RECORD_DEPTH
from alpr_core.ingest.items import TooDeepItem
from tests.unit.events.strategies import json_values, mutated

MAX_EVENTS = 8


def _depth(value: Any) -> int:
    """Containers nested in ``value``, counting itself (a scalar is 0)."""
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _as_item(value: Any) -> Any:
    return TooDeepItem(MAX_RECORD_DEPTH) if _depth(value) > MAX_RECORD_DEPTH else value


def _deep(depth: int, kind: str) -> Any:
    value: Any = {} if kind == "{" else []
    for _ in range(depth - 1):
        value = {"a": value} if kind == "{" else [value]
    return value


def _outcome(body: bytes) -> list[Any] | int:
    """The items, or the status of the problem."""
    try:
        items = json_items(body, MAX_EVENTS)
    except Problem as problem:
        return problem.status
    assert 1 <= len(items) <= MAX_EVENTS
    return items


def _check(body: bytes) -> None:
    outcome = _outcome(body)
    assert isinstance(outcome, list) or outcome in (400, 413, 422)


@given(st.binary(max_size=512))
def test_any_bytes_give_items_or_a_problem(body: bytes) -> None:
    _check(body)


_DEEP = st.builds(_deep, st.integers(1, 3 * MAX_RECORD_DEPTH), st.sampled_from(["{", "["]))
_ITEMS = st.lists(st.one_of(json_values(), _DEEP), max_size=2 * MAX_EVENTS)


@given(_ITEMS)
def test_an_array_gives_its_items_or_413_past_the_cap(items: list[Any]) -> None:
    outcome = _outcome(json.dumps(items).encode())
    if not items:
        assert outcome == 422
    elif len(items) > MAX_EVENTS:
        assert outcome == 413
    else:
        assert outcome == [_as_item(item) for item in items]


@given(st.one_of(st.dictionaries(st.text(max_size=8), json_values(), max_size=4), _DEEP))
def test_one_object_is_one_item(value: Any) -> None:
    if isinstance(value, dict):
        assert _outcome(json.dumps(value).encode()) == [_as_item(value)]


@given(st.integers(1, 200_000), st.sampled_from(["[", "{"]))
def test_any_depth_is_one_too_deep_item_never_a_crash(depth: int, kind: str) -> None:
    opener, closer = (b"[", b"]") if kind == "[" else (b'{"a": ', b"}")
    deep = opener * depth + b"1" + closer * depth
    expected = TooDeepItem(MAX_RECORD_DEPTH) if depth > MAX_RECORD_DEPTH else json.loads(deep)
    assert _outcome(b"[" + deep + b', {"n": 1}]') == [expected, {"n": 1}]


@given(_ITEMS.map(lambda items: json.dumps(items).encode()).flatmap(mutated))
def test_a_mutated_array_gives_items_or_a_problem(body: bytes) -> None:
    _check(body)
