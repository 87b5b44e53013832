"""The /plates and /plates/search query strings, read by one pydantic model instead of FastAPI's
per-parameter machinery: the same values, the same 422s, and the same OpenAPI parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request

from alpr_core.api.plate_query import (
    PlateListQuery,
    PlateSearchQuery,
    openapi_parameters,
    read_query,
)
from alpr_core.api.problems import Problem
from alpr_core.api.search import MatchMode


def _request(*pairs: tuple[str, str]) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/plates",
            "query_string": urlencode(pairs).encode(),
            "headers": [],
        }
    )


def test_values_are_converted_and_camera_id_repeats() -> None:
    query = read_query(
        PlateSearchQuery,
        _request(
            ("plate_text", "AB-12"),
            ("mode", "fuzzy"),
            ("camera_id", "cam-1"),
            ("camera_id", "cam-2"),
            ("start_time", "2026-01-02T03:04:05"),
            ("limit", "7"),
            ("unknown", "ignored"),
        ),
    )
    assert query.mode is MatchMode.FUZZY
    assert query.camera_id == ["cam-1", "cam-2"]
    assert query.limit == 7
    filters = query.filters(max_range_days=31)
    assert filters.start_time == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # no zone means UTC
    assert filters.camera_ids == ["cam-1", "cam-2"]


def test_defaults_when_nothing_is_given() -> None:
    query = read_query(PlateListQuery, _request())
    assert (query.limit, query.cursor, query.camera_id) == (50, None, None)


@pytest.mark.parametrize(
    ("pairs", "where"),
    [
        ((("limit", "0"),), ("query", "limit")),
        ((("limit", "ten"),), ("query", "limit")),
        ((("min_confidence", "1.5"),), ("query", "min_confidence")),
        ((("camera_id", "a\x00b"),), ("query", "camera_id", 0)),
        ((("site", "x" * 201),), ("query", "site")),
        ((("start_time", "yesterday"),), ("query", "start_time")),
        ((("mode", "sloppy"),), ("query", "mode")),
    ],
)
def test_a_bad_parameter_is_a_validation_error_that_names_it(
    pairs: tuple[tuple[str, str], ...], where: tuple[str | int, ...]
) -> None:
    with pytest.raises(RequestValidationError) as raised:
        read_query(PlateSearchQuery, _request(("plate_text", "AB1"), *pairs))
    assert [error["loc"] for error in raised.value.errors()] == [where]


def test_plate_text_is_required() -> None:
    with pytest.raises(RequestValidationError) as raised:
        read_query(PlateSearchQuery, _request(("mode", "exact")))
    assert [error["loc"] for error in raised.value.errors()] == [("query", "plate_text")]


def test_time_ranges_are_checked() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    backwards = PlateListQuery(start_time=start, end_time=start - timedelta(seconds=1))
    with pytest.raises(Problem, match="after"):
        backwards.filters(max_range_days=31)
    too_long = PlateListQuery(start_time=start, end_time=start + timedelta(days=32))
    with pytest.raises(Problem, match="31 days"):
        too_long.filters(max_range_days=31)


def test_openapi_parameters_describe_every_field_without_references() -> None:
    parameters = {p["name"]: p for p in openapi_parameters(PlateSearchQuery)}
    assert set(parameters) == set(PlateSearchQuery.model_fields)
    assert all(p["in"] == "query" and p["description"] for p in parameters.values())
    assert [n for n, p in parameters.items() if p["required"]] == ["plate_text"]
    mode = parameters["mode"]["schema"]
    assert mode["enum"] == [m.value for m in MatchMode]
    assert mode["default"] == "exact"  # kept beside the inlined reference
    assert "$ref" not in str(parameters)
