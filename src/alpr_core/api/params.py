"""Query-parameter rules shared by the routes: times without a zone are UTC; cursors are ours."""

from __future__ import annotations

from datetime import UTC, datetime

from alpr_core.api.cursor import Cursor
from alpr_core.api.problems import Problem


def as_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def parse_cursor(text: str | None) -> Cursor | None:
    """The cursor a client sent back, or a 422 problem when this API did not hand it out."""
    if text is None:
        return None
    try:
        return Cursor.decode(text)
    except ValueError as error:
        raise Problem(422, "Invalid cursor", "Pass next_cursor exactly as returned.") from error
