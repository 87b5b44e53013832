"""The idempotent insert: new batches take the COPY path, overlapping ones skip what is stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg_pool import ConnectionPool

from alpr_core.config import Settings
from alpr_core.db.detections import DetectionRow, DetectionWriter, WriteResult
from alpr_core.db.plate_texts import index_pending_plates
from alpr_core.errors import RejectReason
from alpr_core.events.avro import DecodedEvent
from alpr_core.events.parse import parse_event
from alpr_core.images.object_store import ObjectImageStore, edge_uploads_of
from alpr_core.storage.sink import DetectionSink
from tests.integration.conftest import db_scalar
from tests.unit.factories import LIMITS, record


def _rows(count: int) -> list[DetectionRow]:
    now = datetime.now(UTC)
    return [
        DetectionRow(
            parse_event(
                record(
                    event_id=str(uuid.uuid4()),
                    captured_at=(now - timedelta(days=i % 3)).isoformat(),
                ),
                LIMITS,
                now,
            ),
            schema_id=1,
            image_object_key=None,
        )
        for i in range(count)
    ]


def test_a_batch_overlapping_stored_rows_inserts_only_the_new_ones(settings: Settings) -> None:
    first, extra = _rows(10), _rows(5)
    writer = DetectionWriter()
    with psycopg.connect(settings.db.conninfo()) as conn:
        assert writer.write(conn, first).inserted == 10
        assert writer.write(conn, first[5:] + extra).inserted == 5
        assert writer.write(conn, first + extra).inserted == 0
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
        uuid.UUID(event.event_id),
        "AB12 CDE",
        "AB12CDE",
        "cam-001",
        "trk-17",
        "site-1",
        "edge-001",
        "Ford",
        "lane-1",
        42,
        "s3://alpr-plate-images/edge/cam-001/x.jpg",
        1,
    )


def _read_of(plate: str, at: datetime) -> DetectionRow:
    event = record(
        event_id=str(uuid.uuid4()),
        captured_at=at.isoformat(),
        plate={"text": plate, "normalized_text": plate, "confidence": 0.9},
    )
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
        writer.write(
            conn,
            [
                _read_of("KX12ABC", days_ago[2]),
                _read_of("KX12ABC", days_ago[1]),
                _read_of("ZZ99ZZZ", days_ago[2]),
            ],
        )
        pending = conn.execute("SELECT count(*) FROM plate_texts_pending").fetchone()
        assert pending == (3,)  # one row per plate and day of a batch
    assert _plate_texts(settings) == {"KX12ABC": days_ago[1].date(), "ZZ99ZZZ": days_ago[2].date()}
    assert _plate_days(settings) == {
        ("KX12ABC", days_ago[2].date()),
        ("KX12ABC", days_ago[1].date()),
        ("ZZ99ZZZ", days_ago[2].date()),
    }

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


def _decoded(*reads: DetectionRow) -> list[DecodedEvent]:
    return [DecodedEvent(row.event, schema_id=1) for row in reads]


def _partition_of(at: datetime) -> str:
    return f"plate_detections_p{at.astimezone(UTC):%Y%m%d}"


def test_a_day_dropped_under_the_writer_is_made_again_and_older_rows_are_past_retention(
    settings: Settings, images: ObjectImageStore
) -> None:
    now = datetime.now(UTC).replace(hour=12)
    kept_day, old_day = now - timedelta(days=3), now - timedelta(days=40)
    with ConnectionPool(settings.db.conninfo(), min_size=1, max_size=1) as pool:
        edge = edge_uploads_of(settings)
        sink = DetectionSink(pool, images, 1, edge, retention=timedelta(days=30), now=lambda: now)
        assert sink.write(_decoded(_read_of("FIRST01", kept_day))).rows_inserted == 1
        with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
            conn.execute(f"DROP TABLE {_partition_of(kept_day)}".encode())  # as retention would

        later = kept_day + timedelta(hours=1)
        batch = [
            _read_of("KEPT001", kept_day),
            _read_of("OLD0001", old_day),
            _read_of("KEPT002", later),
        ]
        result = sink.write(_decoded(*batch))
        sink.close()

    assert result.rows_inserted == 2
    assert [(u.index, u.error.reason) for u in result.unstorable] == [
        (1, RejectReason.PAST_RETENTION)
    ]
    assert db_scalar(settings, "SELECT count(*) FROM plate_detections") == 2
    old_partition = f"SELECT count(*) FROM pg_class WHERE relname = '{_partition_of(old_day)}'"
    assert db_scalar(settings, old_partition) == 0  # nor made again for a row past retention


def test_a_writer_without_retention_stores_rows_of_any_day(settings: Settings) -> None:
    rows = [_read_of("ANCIENT", datetime.now(UTC) - timedelta(days=80))]
    with psycopg.connect(settings.db.conninfo()) as conn:
        assert DetectionWriter().write(conn, rows) == WriteResult(1)
