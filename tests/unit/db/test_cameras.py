"""Which cameras a key may list: its scope is part of the SQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from alpr_core.db.api_keys import ApiKey
from alpr_core.db.cameras import visible_cameras_query


def _admin(sites: list[str] | None, cameras: list[str] | None) -> ApiKey:
    return ApiKey(uuid.uuid4(), "a", "admin", sites, cameras, datetime.now(UTC), None)


@pytest.mark.parametrize(
    ("sites", "cameras", "where", "params"),
    [
        pytest.param(None, None, "WHERE TRUE", {}, id="unscoped"),
        pytest.param(
            ["s1"], None, "WHERE site_id = ANY(%(scope_sites)s)", {"scope_sites": ["s1"]}, id="site"
        ),
        pytest.param(
            ["s1"],
            ["c1", "c2"],
            "WHERE site_id = ANY(%(scope_sites)s) AND camera_id = ANY(%(scope_cameras)s)",
            {"scope_sites": ["s1"], "scope_cameras": ["c1", "c2"]},
            id="sites and cameras",
        ),
        pytest.param(
            [], None, "WHERE site_id = ANY(%(scope_sites)s)", {"scope_sites": []}, id="no sites"
        ),
    ],
)
def test_a_scoped_key_lists_only_its_cameras(
    sites: list[str] | None, cameras: list[str] | None, where: str, params: dict[str, object]
) -> None:
    query, bound = visible_cameras_query(_admin(sites, cameras))
    assert query.endswith(where)
    assert bound == params
