"""The writer's pure logic: which rows are past retention, and how often a batch is retried
while its day partitions keep disappearing. The SQL is tested against PostgreSQL in
tests/integration/test_detections_writer.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from psycopg.errors import CheckViolation

from alpr_core.db.detections import (
    PARTITION_ATTEMPTS,
    DetectionRow,
    DetectionWriter,
    WriteResult,
    first_day_kept,
)
from alpr_core.errors import TransientError
from alpr_core.events.parse import parse_event
from tests.unit.factories import LIMITS, NOW, record

_UTC_MINUS_5 = timezone(timedelta(hours=-5))


@pytest.mark.parametrize(
    ("now", "keep", "first"),
    [
        pytest.param(
            datetime(2026, 12, 4, 12, tzinfo=UTC),
            timedelta(days=90),
            date(2026, 9, 5),
            id="the day that holds now - keep",
        ),
        pytest.param(
            datetime(2026, 12, 4, 0, 0, tzinfo=UTC),
            timedelta(days=1),
            date(2026, 12, 3),
            id="midnight: the whole previous day is kept",
        ),
        pytest.param(
            datetime(2026, 12, 4, 21, tzinfo=_UTC_MINUS_5),
            timedelta(days=1),
            date(2026, 12, 4),
            id="a local clock counts in UTC days",
        ),
    ],
)
def test_first_day_kept(now: datetime, keep: timedelta, first: date) -> None:
    assert first_day_kept(keep, now) == first


class ScriptedWriter(DetectionWriter):
    """A writer whose database step fails ``failures`` times as if a partition were missing."""

    def __init__(self, failures: int) -> None:
        super().__init__(timedelta(days=30), lambda: NOW)
        self.failures = failures
        self.attempts: list[list[str]] = []

    def _write(self, conn: psycopg.Connection[Any], rows: Sequence[DetectionRow]) -> int:
        self.attempts.append([row.event.event_id for row in rows])
        if len(self.attempts) <= self.failures:
            raise CheckViolation("no partition of relation found for row")
        return len(rows)


def _row_at(at: datetime) -> DetectionRow:
    event = record(event_id=str(uuid.uuid4()), captured_at=at.isoformat())
    return DetectionRow(parse_event(event, LIMITS, NOW), 1, None)


_CONN: Any = None  # the scripted writer never touches the connection


def test_rows_of_days_before_the_first_day_kept_are_not_written() -> None:
    rows = [_row_at(NOW - timedelta(days=31)), _row_at(NOW), _row_at(NOW - timedelta(days=30))]
    writer = ScriptedWriter(failures=0)

    assert writer.write(_CONN, rows) == WriteResult(2, past_retention=(0,))
    assert writer.attempts == [[rows[1].event.event_id, rows[2].event.event_id]]


def test_a_missing_partition_is_retried_until_the_batch_is_written() -> None:
    writer = ScriptedWriter(failures=PARTITION_ATTEMPTS - 1)

    assert writer.write(_CONN, [_row_at(NOW)]) == WriteResult(1)
    assert len(writer.attempts) == PARTITION_ATTEMPTS


def test_partitions_dropped_at_every_attempt_are_a_transient_failure() -> None:
    writer = ScriptedWriter(failures=PARTITION_ATTEMPTS)

    with pytest.raises(TransientError):
        writer.write(_CONN, [_row_at(NOW)])
    assert len(writer.attempts) == PARTITION_ATTEMPTS
