"""Query-parameter rules shared by the routes: times without a zone are UTC; cursors are ours."""

from __future__ import annotations

from datetime import datetime

from alpr_core.api.cursor import Cursor
from alpr_core.api.problems import Problem
from alpr_core.events.parse import in_utc


def as_utc(value: datetime | None) -> datetime | None:
    """A time from a query parameter, in UTC (``events.parse.in_utc``): ``+16:00`` had reached
    PostgreSQL, which refused it (a 500, found by schemathesis)."""
    if value is None:
        return None
    try:
        return in_utc(value)
    except OverflowError as error:  # e.g. 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        raise Problem(
            422, "Time out of range", "A time falls outside years 1-9999 in UTC."
        ) from error


def parse_cursor(text: str | None) -> Cursor | None:
    """The cursor a client sent back, or a 422 problem when this API did not hand it out."""
    if text is None:
        return None
    try:
        return Cursor.decode(text)
    except ValueError as error:
        raise Problem(422, "Invalid cursor", "Pass next_cursor exactly as returned.") from error
