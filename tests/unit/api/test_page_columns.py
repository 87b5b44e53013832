"""A page's columns are PlateSummary's fields, by name, and the two image columns."""

from __future__ import annotations

import re

from alpr_core.api.queries import SUMMARY_COLUMNS
from alpr_core.api.schemas import PlateSummary


def test_summary_columns_are_plate_summary_fields_and_the_image_columns() -> None:
    columns = [re.sub(r'"', "", column.strip()) for column in SUMMARY_COLUMNS.split(",")]
    fields = [name for name in PlateSummary.model_fields if name != "image_url"]
    assert sorted(columns) == sorted([*fields, "image_object_key", "plate_url"])
