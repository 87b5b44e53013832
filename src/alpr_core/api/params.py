"""Query-parameter rules shared by the routes: times without a zone are UTC; cursors are ours."""

from __future__ import annotations

from datetime import UTC, datetime

from alpr_core.api.cursor import Cursor
from alpr_core.api.problems import Problem


def as_utc(value: datetime | None) -> datetime | None:
    """The time in UTC. Converted here, not left to PostgreSQL: Python accepts offsets up to
    23:59, PostgreSQL only to 15:59, and one-shot statements carry the time as text with its
    offset (``+16:00`` gave a 500, found by schemathesis)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as error:  # e.g. 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        raise Problem(422, "Time out of range", "A time falls outside years 1-9999 in UTC."
                      ) from error  # fmt: skip


def parse_cursor(text: str | None) -> Cursor | None:
    """The cursor a client sent back, or a 422 problem when this API did not hand it out."""
    if text is None:
        return None
    try:
        return Cursor.decode(text)
    except ValueError as error:
        raise Problem(422, "Invalid cursor", "Pass next_cursor exactly as returned.") from error
