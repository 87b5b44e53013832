"""Which page statements run their prepared generic plan, and which are planned for their values."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from alpr_core.api.cursor import Cursor
from alpr_core.api.queries import PlateFilters, page_queries, prepares
from alpr_core.api.search import MatchMode, plate_match
from alpr_core.db.api_keys import ApiKey


def _key(sites: list[str] | None = None, cameras: list[str] | None = None) -> ApiKey:
    return ApiKey(UUID(int=1), "k", "viewer", sites, cameras, datetime.now(UTC), None)


@pytest.mark.parametrize(
    ("filters", "key"),
    [
        (PlateFilters(min_confidence=0.5), _key()),
        (PlateFilters(camera_ids=["cam-1"], site="site-1"), _key()),
        (PlateFilters(), _key(sites=["site-1"], cameras=["cam-1"])),
    ],
)
def test_a_list_restricted_to_one_camera_or_site_at_most_is_prepared(
    filters: PlateFilters, key: ApiKey
) -> None:
    assert prepares(None, filters, key)


@pytest.mark.parametrize(
    ("filters", "key"),
    [
        (PlateFilters(camera_ids=["cam-1", "cam-2"]), _key()),
        (PlateFilters(), _key(sites=["site-1", "site-2"])),
        (PlateFilters(), _key(cameras=["cam-1", "cam-2"])),
        (PlateFilters(), _key(sites=[])),  # a key that may see no site
    ],
)
def test_a_list_of_several_cameras_or_sites_is_planned_for_its_values(
    filters: PlateFilters, key: ApiKey
) -> None:
    assert not prepares(None, filters, key)


def test_searches_follow_their_match_whatever_the_filters() -> None:
    filters, scoped = PlateFilters(camera_ids=["cam-1", "cam-2"]), _key(sites=["a", "b"])
    assert prepares(plate_match(MatchMode.EXACT, "ABC123"), filters, scoped)
    assert prepares(plate_match(MatchMode.FUZZY, "ABC123"), filters, scoped)
    assert prepares(plate_match(MatchMode.PREFIX, "ABC"), filters, scoped)
    assert prepares(plate_match(MatchMode.WILDCARD, "*ABC*"), filters, scoped)


@pytest.mark.parametrize("mode", [MatchMode.PREFIX, MatchMode.WILDCARD])
def test_a_broad_search_is_prepared_only_when_its_windows_count_back_from_today(
    mode: MatchMode,
) -> None:
    match, key = plate_match(mode, "*ABC*" if mode is MatchMode.WILDCARD else "ABC"), _key()
    then = datetime(2026, 1, 5, 12, tzinfo=UTC)
    assert prepares(match, PlateFilters(start_time=then), key)
    assert not prepares(match, PlateFilters(end_time=then), key)
    assert not prepares(match, PlateFilters(), key, cursor=Cursor(then, 7))
    assert prepares(
        plate_match(MatchMode.EXACT, "ABC"),
        PlateFilters(end_time=then),
        key,
        cursor=Cursor(then, 7),
    )


def test_window_edges_are_constants_in_the_statement() -> None:
    now = datetime(2026, 3, 9, 15, 30, tzinfo=UTC)
    match = plate_match(MatchMode.WILDCARD, "*ABC*")
    [(first, params), _older] = page_queries(_key(), PlateFilters(), None, 50, match, now=now)
    assert "\"timestamp\" >= '2026-03-09 00:00:00+00'::timestamptz" in first
    assert "\"timestamp\" < '2026-03-09 00:00:00+00'::timestamptz" in first  # the next window
    assert not any(name.startswith("window") for name in params)


def test_one_value_is_an_equality_and_several_are_any() -> None:
    one = page_queries(_key(cameras=["cam-1"]), PlateFilters(camera_ids=["cam-2"]), None, 50)
    [(query, params)] = one
    assert "camera_id = %(scope_cameras)s" in query
    assert params["scope_cameras"] == "cam-1"
    assert "camera_id = %(camera_ids)s" in query
    assert params["camera_ids"] == "cam-2"
    [(query, params)] = page_queries(_key(sites=[]), PlateFilters(camera_ids=["a", "b"]), None, 5)
    assert "site = ANY(%(scope_sites)s)" in query
    assert params["scope_sites"] == []
    assert "camera_id = ANY(%(camera_ids)s)" in query
    assert params["camera_ids"] == ["a", "b"]
