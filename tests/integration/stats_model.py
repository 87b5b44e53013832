"""What /stats must answer, computed by brute force from the reads themselves: the model both
paths (the trigger-kept table, the continuous aggregate) are checked against."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from alpr_core.events.model import PlateEvent


def bucket_start(at: datetime, bucket: str) -> datetime:
    utc = at.astimezone(UTC)
    hour = utc.replace(minute=0, second=0, microsecond=0)
    return hour.replace(hour=0) if bucket == "day" else hour


def expected_series(
    events: Iterable[PlateEvent], bucket: str, by: str
) -> list[tuple[datetime, str | None, str | None, int, float]]:
    """(bucket start, camera, site, reads, mean confidence), ordered as /stats orders them."""
    tallies: dict[tuple[datetime, str | None, str | None], list[float]] = defaultdict(list)
    for event in events:
        camera = event.camera_id if by == "camera" else None
        site = event.site if by in ("camera", "site") else None
        tallies[(bucket_start(event.captured_at, bucket), camera, site)].append(event.confidence)
    return [
        (at, camera, site, len(values), sum(values) / len(values))
        for (at, camera, site), values in sorted(
            tallies.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2] or "")
        )
    ]


def assert_same_series(got: Sequence[Sequence[object]], want: Sequence[Sequence[object]]) -> None:
    """Equal buckets, places and counts; mean confidences equal but for float rounding."""
    assert [tuple(row[:4]) for row in got] == [tuple(row[:4]) for row in want]
    assert [row[4] for row in got] == pytest.approx([row[4] for row in want])


def assert_pass_counts(conn: psycopg.Connection[Any]) -> int:
    """The passes per hour of their first read, camera and site (``pass_rollups``, kept from
    each batch's changes) are those of the passes kept; how many groups there are."""
    counted = conn.execute(
        "SELECT hour, camera_id, site, passes FROM pass_rollups WHERE passes <> 0"
    ).fetchall()
    kept = conn.execute(
        "SELECT date_trunc('hour', first_seen, 'UTC'), camera_id, site, count(*)"
        " FROM passes GROUP BY 1, 2, 3"
    ).fetchall()
    assert sorted(counted, key=str) == sorted(kept, key=str)
    return len(kept)
