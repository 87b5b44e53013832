"""/stats's SQL on the TimescaleDB path: the continuous aggregate (migration 0026) gives what a
brute-force count of the reads gives, before a refresh (real-time aggregation) and after one,
and retention removes the counts of the days it drops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from alpr_core.db.api_keys import ApiKey
from alpr_core.db.plate_sketches import SketchUnion
from alpr_core.db.retention import apply_retention
from alpr_core.db.stats import (
    Bucket,
    StatsBy,
    StatsFilters,
    StatsRange,
    camera_health_query,
    reads_series_query,
    sketches_query,
)
from alpr_core.images.object_store import ObjectImageStore, local_store
from tests.integration.stats_model import assert_pass_counts, assert_same_series, expected_series
from tests.integration.timescale.conftest import simulated_rows, store_images, write_rows

Conn = psycopg.Connection[tuple[object, ...]]
NOW = datetime.now(UTC)
EVERYONE = ApiKey(UUID(int=1), "stats", "viewer", None, None, NOW, None)
SITE_1 = ApiKey(UUID(int=2), "site 1", "viewer", ["site-1"], None, NOW, None)


def _series(
    conn: Conn, key: ApiKey, bucket: str, by: str, days: int = 12
) -> list[tuple[object, ...]]:
    hours = StatsRange.covering(NOW - timedelta(days=days), NOW)
    sql, params = reads_series_query(key, hours, bucket, by, StatsFilters())  # type: ignore[arg-type]
    return [tuple(row) for row in conn.execute(sql, params).fetchall()]


@pytest.mark.parametrize(("bucket", "by"), [("hour", "camera"), ("day", "site"), ("day", "all")])
def test_the_continuous_aggregate_counts_as_the_reads_do(
    conn: Conn, bucket: Bucket, by: StatsBy
) -> None:
    rows = simulated_rows(NOW - timedelta(days=3), 60, seed=21)
    rows += simulated_rows(NOW - timedelta(hours=3), 60, seed=22)
    write_rows(conn, rows)
    want = expected_series((row.event for row in rows), bucket, by)
    assert_same_series(
        _series(conn, EVERYONE, bucket, by), want
    )  # real-time: nothing materialized yet
    conn.execute(
        "CALL refresh_continuous_aggregate('read_rollups', NULL, now() - interval '1 hour')"
    )
    assert_same_series(_series(conn, EVERYONE, bucket, by), want)
    write_rows(conn, rows[:30])  # a replay inserts nothing, so counts nothing
    assert_same_series(_series(conn, EVERYONE, bucket, by), want)
    site_1 = [row.event for row in rows if row.event.site == "site-1"]
    assert_same_series(_series(conn, SITE_1, bucket, by), expected_series(site_1, bucket, by))


def test_retention_removes_the_counts_of_dropped_days(conn: Conn, tmp_path: Path) -> None:
    old = simulated_rows(NOW - timedelta(days=10), 40, seed=23)
    recent = simulated_rows(NOW - timedelta(hours=2), 40, seed=24)
    images = ObjectImageStore(local_store(tmp_path))
    store_images(images, old + recent)
    write_rows(conn, old + recent)
    conn.execute(
        "CALL refresh_continuous_aggregate('read_rollups', NULL, now() - interval '1 hour')"
    )
    result = apply_retention(conn, images, timedelta(days=7), NOW)
    assert result.partitions_dropped == 1
    assert result.rollup_hours_deleted > 0
    assert_same_series(
        _series(conn, EVERYONE, "day", "all"),
        expected_series((r.event for r in recent), "day", "all"),
    )


def test_camera_health_on_the_continuous_aggregate(conn: Conn) -> None:
    week = simulated_rows(NOW - timedelta(days=4), 60, seed=25)
    today = simulated_rows(NOW - timedelta(hours=3), 60, seed=26)
    write_rows(conn, week + today)
    sql, params = camera_health_query(EVERYONE, NOW)
    health = {row[0]: row for row in conn.execute(sql, params).fetchall()}
    for camera in {row.event.camera_id for row in week + today}:
        recent = [row.event for row in today if row.event.camera_id == camera]
        before = [row.event for row in week if row.event.camera_id == camera]
        _, _, reads_24h, usual_24h, _, last_read = health[camera]
        assert reads_24h == len(recent)
        assert float(str(usual_24h)) == pytest.approx(len(before) / 7)
        assert last_read == max(e.captured_at for e in recent + before)


def test_unique_plates_and_pass_counts_are_kept_on_the_hypertable_path(conn: Conn) -> None:
    """The writer's own counts (passes per hour, plate sketches per day) on PGlite's INSERT
    path: the distinct plates per day and site, and the passes kept, per hour."""
    rows = simulated_rows(NOW - timedelta(days=2), 60, seed=25)
    write_rows(conn, rows)
    write_rows(conn, rows[:20])  # a replay: nothing new to count
    hours = StatsRange.covering(NOW - timedelta(days=3), NOW)
    sql, params = sketches_query(EVERYONE, hours, StatsFilters())
    per_day: dict[tuple[object, ...], SketchUnion] = {}
    for day, _camera, site, uniques in conn.execute(sql, params).fetchall():
        per_day.setdefault((day, site), SketchUnion()).add(uniques)  # type: ignore[arg-type]
    want: dict[tuple[object, ...], set[str]] = {}
    for row in rows:
        event = row.event
        want.setdefault((event.captured_at.date(), event.site), set()).add(event.plate_normalized)
    got = {group: round(union.unique_plates().estimate) for group, union in per_day.items()}
    assert got == {group: len(plates) for group, plates in want.items()}
    assert assert_pass_counts(conn) > 0
