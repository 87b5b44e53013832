"""A page's rows are paired with PlateSummary's fields by position: the orders must agree."""

from __future__ import annotations

import re

from alpr_core.api.queries import SUMMARY_COLUMNS, SUMMARY_FIELDS
from alpr_core.api.schemas import PlateSummary


def test_summary_fields_are_plate_summary_fields_but_the_computed_image_url() -> None:
    assert list(SUMMARY_FIELDS) == [
        name for name in PlateSummary.model_fields if name != "image_url"
    ]


def test_summary_columns_start_with_the_summary_fields_and_end_with_the_image_columns() -> None:
    columns = [re.sub(r'"', "", column.strip()) for column in SUMMARY_COLUMNS.split(",")]
    assert columns[: len(SUMMARY_FIELDS)] == list(SUMMARY_FIELDS)
    assert columns[len(SUMMARY_FIELDS) :] == ["image_object_key", "plate_url"]
