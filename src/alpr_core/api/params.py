"""Query-parameter rules shared by the routes: times without a zone are UTC; cursors are ours."""

from __future__ import annotations

from datetime import datetime, timedelta

from alpr_core.api.cursor import Cursor
from alpr_core.api.problems import Problem
from alpr_core.events.parse import in_utc


def as_utc(value: datetime | None) -> datetime | None:
    """A time from a query parameter, in UTC (``events.parse.in_utc``): ``+16:00`` had reached
    PostgreSQL, which refused it (a 500, found by schemathesis)."""
    return None if value is None else _utc(value)


def _utc(value: datetime) -> datetime:
    try:
        return in_utc(value)
    except OverflowError as error:  # e.g. 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        raise Problem(
            422, "Time out of range", "A time falls outside years 1-9999 in UTC."
        ) from error


def require_purpose(required: bool, purpose: str | None) -> None:
    """With ``API_REQUIRE_PURPOSE``, a search states why it is made: else a 422 problem."""
    if required and not (purpose or "").strip():
        raise Problem(422, "Purpose required", "State why you search in `purpose`.")


def checked_range(
    start: datetime, end: datetime, max_range_days: int, *, strict: bool = True
) -> tuple[datetime, datetime]:
    """``start`` and ``end`` in UTC, in order (``strict``: not equal either), at most
    ``max_range_days`` apart; else a 422 problem."""
    since, until = _utc(start), _utc(end)
    if since > until or (strict and since == until):
        raise Problem(422, "Invalid time range", "start_time is after end_time.")
    if until - since > timedelta(days=max_range_days):
        raise Problem(
            422, "Time range too long", f"Ask for at most {max_range_days} days at a time."
        )
    return since, until


def parse_cursor(text: str | None) -> Cursor | None:
    """The cursor a client sent back, or a 422 problem when this API did not hand it out."""
    if text is None:
        return None
    try:
        return Cursor.decode(text)
    except ValueError as error:
        raise Problem(422, "Invalid cursor", "Pass next_cursor exactly as returned.") from error
