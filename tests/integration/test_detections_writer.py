"""The idempotent insert: new batches take the COPY path, overlapping ones skip what is stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from alpr_core.config import Settings
from alpr_core.db.detections import DetectionRow, DetectionWriter
from alpr_core.db.plate_texts import index_pending_plates
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
        "Ford", "lane-1", 42, "s3://alpr-plate-images/edge/cam-001/x.jpg", 1,
    )  # fmt: skip


def _read_of(plate: str, at: datetime) -> DetectionRow:
    event = record(event_id=str(uuid.uuid4()), captured_at=at.isoformat(),
                   plate={"text": plate, "normalized_text": plate, "confidence": 0.9})  # fmt: skip
    return DetectionRow(parse_event(event, LIMITS, datetime.now(UTC)), 1, None)


def _plate_texts(settings: Settings) -> dict[str, object]:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        while index_pending_plates(conn, limit=2):  # small drains: several rounds
            pass
        assert conn.execute("SELECT count(*) FROM plate_texts_pending").fetchone() == (0,)
        rows = conn.execute("SELECT plate_normalized, last_seen FROM plate_texts").fetchall()
    return dict(rows)


def _plate_days(settings: Settings) -> set[tuple[str, object]]:
    with psycopg.connect(settings.db.conninfo()) as conn:
        return set(conn.execute("SELECT plate_normalized, day FROM plate_days").fetchall())


def test_each_plate_enters_the_fuzzy_dictionary_with_the_day_of_its_newest_read(
    settings: Settings,
) -> None:
    today = datetime.now(UTC).replace(hour=12)
    days_ago = [today - timedelta(days=n) for n in range(3)]
    writer = DetectionWriter()
    with psycopg.connect(settings.db.conninfo()) as conn:
        writer.write(conn, [_read_of("KX12ABC", days_ago[2]), _read_of("KX12ABC", days_ago[1]),
                            _read_of("ZZ99ZZZ", days_ago[2])])  # fmt: skip
        pending = conn.execute("SELECT count(*) FROM plate_texts_pending").fetchone()
        assert pending == (3,)  # one row per plate and day of a batch
    assert _plate_texts(settings) == {"KX12ABC": days_ago[1].date(), "ZZ99ZZZ": days_ago[2].date()}
    assert _plate_days(settings) == {
        ("KX12ABC", days_ago[2].date()), ("KX12ABC", days_ago[1].date()),
        ("ZZ99ZZZ", days_ago[2].date()),
    }  # fmt: skip

    with psycopg.connect(settings.db.conninfo()) as conn:
        writer.write(conn, [_read_of("KX12ABC", days_ago[2])])  # older: last_seen stays
        writer.write(conn, [_read_of("ZZ99ZZZ", days_ago[0])])  # newer: last_seen moves
        writer.write(conn, [_read_of("NEW1234", days_ago[0])])
    assert _plate_texts(settings) == {
        "KX12ABC": days_ago[1].date(),
        "ZZ99ZZZ": days_ago[0].date(),
        "NEW1234": days_ago[0].date(),
    }
    assert len(_plate_days(settings)) == 5
