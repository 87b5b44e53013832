"""Which page statements run their prepared generic plan, and which are planned for their values."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

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
    assert not prepares(plate_match(MatchMode.WILDCARD, "*ABC*"), PlateFilters(), _key())


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
