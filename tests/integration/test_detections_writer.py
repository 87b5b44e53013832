"""The idempotent insert: new batches take the COPY path, overlapping ones skip what is stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from alpr_core.config import Settings
from alpr_core.db.detections import DetectionRow, DetectionWriter
from alpr_core.events.parse import parse_event
from tests.integration.conftest import db_scalar
from tests.unit.factories import LIMITS, record


def _rows(count: int) -> list[DetectionRow]:
    now = datetime.now(UTC)
    return [
        DetectionRow(
            parse_event(record(event_id=str(uuid.uuid4()),
                               captured_at=(now - timedelta(days=i % 3)).isoformat()), LIMITS, now),
            schema_id=1, image_object_key=None,
        )
        for i in range(count)
    ]  # fmt: skip


def test_a_batch_overlapping_stored_rows_inserts_only_the_new_ones(settings: Settings) -> None:
    first, extra = _rows(10), _rows(5)
    writer = DetectionWriter()
    with psycopg.connect(settings.db.conninfo()) as conn:
        assert writer.write(conn, first) == 10
        assert writer.write(conn, first[5:] + extra) == 5
        assert writer.write(conn, first + extra) == 0
    assert db_scalar(settings, "SELECT count(*) FROM plate_detections") == 15
    assert db_scalar(settings, "SELECT count(DISTINCT event_id) FROM plate_detections") == 15


def test_rows_keep_every_field_of_the_event(settings: Settings) -> None:
    row = _rows(1)[0]
    with psycopg.connect(settings.db.conninfo()) as conn:
        DetectionWriter().write(conn, [row])
        stored = conn.execute(
            "SELECT event_id, plate_text, plate_normalized, camera_id, track_id, site, host,"
            " vehicle_make, extras->>'roi', latency_ms, image_path, schema_id"
            " FROM plate_detections"
        ).fetchone()
    event = row.event
    assert stored == (
        uuid.UUID(event.event_id), "AB12 CDE", "AB12CDE", "cam-001", "trk-17", "site-1", "edge-001",
        "Ford", "lane-1", 42, "s3://alpr-plate-images/edge/x.jpg", 1,
    )  # fmt: skip
