"""Retention drops whole expired partitions and deletes the images stored for their rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from prometheus_client import CollectorRegistry
from psycopg_pool import ConnectionPool

from alpr_core.config import Settings
from alpr_core.db.migrate import migrate
from alpr_core.db.plate_texts import index_pending_plates
from alpr_core.db.retention import apply_retention
from alpr_core.events.avro import DecodedEvent
from alpr_core.events.parse import parse_event
from alpr_core.images.object_store import ObjectImageStore, edge_uploads_of
from alpr_core.jobs.retention import RetentionSchedule
from alpr_core.metrics import StorageMetrics
from alpr_core.storage.sink import DetectionSink
from tests.integration.conftest import db_scalar
from tests.unit.factories import LIMITS, image_bytes, record


def _events_at(when: datetime, count: int, plate: str = "AB12CDE") -> list[DecodedEvent]:
    return [
        DecodedEvent(
            parse_event(
                record(
                    event_id=str(uuid.uuid4()),
                    captured_at=(when + timedelta(minutes=i)).isoformat(),
                    plate={"text": plate, "normalized_text": plate, "confidence": 0.9},
                    plate_image=image_bytes(),
                ),
                LIMITS,
                when,
            ),
            schema_id=1,
        )
        for i in range(count)
    ]


def _keys(settings: Settings, where: str) -> list[str]:
    with psycopg.connect(settings.db.conninfo()) as conn:
        rows = conn.execute(
            f"SELECT image_object_key FROM plate_detections WHERE {where}".encode()
        ).fetchall()
    return [row[0] for row in rows]


def _times() -> tuple[datetime, datetime, datetime]:
    """Now, a time in a day retention drops (90 days kept), and a recent time."""
    now = datetime.now(UTC)
    return now, (now - timedelta(days=100)).replace(hour=10), now - timedelta(hours=1)


def _store(settings: Settings, images: ObjectImageStore, *batches: list[DecodedEvent]) -> None:
    """Write each batch through the storage sink, as the consumer does."""
    with ConnectionPool(settings.db.conninfo(), min_size=1, max_size=1) as pool:
        sink = DetectionSink(pool, images, 2, edge_uploads_of(settings))
        for batch in batches:
            sink.write(batch)
        sink.close()


def test_rows_and_their_images_older_than_the_retention_are_both_gone(
    settings: Settings, images: ObjectImageStore
) -> None:
    now, old_day, recent = _times()
    _store(settings, images, _events_at(old_day, 5) + _events_at(recent, 3))
    old_keys = _keys(settings, f"\"timestamp\" < '{now - timedelta(days=90)}'")
    assert len(old_keys) == 5
    assert all(images.get(key) for key in old_keys)

    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        result = apply_retention(conn, images, timedelta(days=90), now)

    assert result.partitions_dropped >= 1
    assert result.images_deleted == 5
    assert all(images.get(key) is None for key in old_keys)
    assert db_scalar(settings, "SELECT count(*) FROM plate_detections") == 3
    assert images.count() == 3
    assert result.rollup_hours_deleted >= 1  # the counts of the dropped day go with it
    assert db_scalar(settings, "SELECT sum(reads) FROM read_rollups") == 3
    old_partition = f"plate_detections_p{old_day:%Y%m%d}"
    assert (
        db_scalar(settings, f"SELECT count(*) FROM pg_class WHERE relname = '{old_partition}'") == 0
    )
    tomorrow = f"plate_detections_p{now + timedelta(days=1):%Y%m%d}"
    assert db_scalar(settings, f"SELECT count(*) FROM pg_class WHERE relname = '{tomorrow}'") == 1


def test_plate_texts_whose_reads_are_all_dropped_are_forgotten(
    settings: Settings, images: ObjectImageStore
) -> None:
    now, old_day, recent = _times()
    _store(
        settings,
        images,
        _events_at(old_day, 2, "OLD1234") + _events_at(old_day, 1, "BOTH123"),
        _events_at(recent, 1, "BOTH123") + _events_at(recent, 1, "NEW5678"),
    )
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        index_pending_plates(conn)  # the indexed plates
    _store(settings, images, _events_at(old_day, 1, "OLDTOO1") + _events_at(recent, 1, "NEW0001"))
    # and two still pending

    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        result = apply_retention(conn, images, timedelta(days=90), now)
        index_pending_plates(conn)
        remaining = conn.execute("SELECT plate_normalized FROM plate_texts ORDER BY 1").fetchall()
        days = conn.execute("SELECT DISTINCT day FROM plate_days").fetchall()

    assert result.plate_texts_deleted == 1
    assert [plate for (plate,) in remaining] == ["BOTH123", "NEW0001", "NEW5678"]
    assert days == [(recent.date(),)]  # the old day is forgotten, BOTH123's recent one kept


def test_migrations_apply_once(settings: Settings) -> None:
    assert migrate(settings.db.conninfo()) == []
    assert db_scalar(settings, "SELECT count(*) FROM schema_migrations") >= 1


def test_the_scheduled_run_counts_what_it_deleted(
    settings: Settings, images: ObjectImageStore
) -> None:
    old_day = (datetime.now(UTC) - timedelta(days=120)).replace(hour=10)
    _store(settings, images, _events_at(old_day, 4))
    registry = CollectorRegistry()
    metrics = StorageMetrics(registry)
    schedule = RetentionSchedule(
        settings.db.conninfo(), images, timedelta(days=90), interval_s=0, metrics=metrics
    )

    schedule.run_once()

    assert registry.get_sample_value("alpr_retention_images_deleted_total") == 4
    assert registry.get_sample_value("alpr_retention_partitions_dropped_total") == 1
    assert (registry.get_sample_value("alpr_retention_last_run_timestamp_seconds") or 0) > 0
    assert db_scalar(settings, "SELECT count(*) FROM plate_detections") == 0
    assert images.count() == 0


def test_a_partition_busy_past_the_lock_timeout_is_dropped_by_a_later_run(
    settings: Settings, images: ObjectImageStore
) -> None:
    now, old_day, _recent = _times()
    _store(settings, images, _events_at(old_day, 3))
    old_keys = _keys(settings, "true")
    partition = f"plate_detections_p{old_day:%Y%m%d}"
    registry = CollectorRegistry()
    metrics = StorageMetrics(registry)
    keep = timedelta(days=90)
    schedule = RetentionSchedule(settings.db.conninfo(), images, keep, 0, metrics, lambda: now)

    with psycopg.connect(settings.db.conninfo()) as reader:
        reader.execute(f"LOCK TABLE {partition} IN ACCESS SHARE MODE".encode())  # a long query
        schedule.run_once()
        assert db_scalar(settings, f"SELECT count(*) FROM {partition}") == 3  # still there
        reader.rollback()
    assert all(images.get(key) is None for key in old_keys)  # images first, as always
    assert registry.get_sample_value("alpr_retention_partitions_locked_total") == 1
    assert registry.get_sample_value("alpr_retention_partitions_dropped_total") == 0

    schedule.run_once()

    assert registry.get_sample_value("alpr_retention_partitions_dropped_total") == 1
    assert registry.get_sample_value("alpr_retention_partitions_locked_total") == 1
    gone = f"SELECT count(*) FROM pg_class WHERE relname = '{partition}'"
    assert db_scalar(settings, gone) == 0


def test_a_drop_waits_no_longer_than_the_lock_timeout(
    settings: Settings, images: ObjectImageStore
) -> None:
    now, old_day, recent = _times()
    _store(settings, images, _events_at(old_day, 2) + _events_at(recent, 1))
    partition = f"plate_detections_p{old_day:%Y%m%d}"
    with (
        psycopg.connect(settings.db.conninfo()) as reader,
        psycopg.connect(settings.db.conninfo(), autocommit=True) as conn,
    ):
        reader.execute(f"LOCK TABLE {partition} IN ACCESS SHARE MODE".encode())
        result = apply_retention(conn, images, timedelta(days=90), now, lock_timeout_ms=100)

    assert result.partitions_locked == 1
    assert result.images_deleted == 2
    assert db_scalar(settings, f"SELECT count(*) FROM {partition}") == 2
    assert db_scalar(settings, "SELECT count(*) FROM plate_detections") == 3


def test_alerts_go_at_their_lists_retention_or_the_reads_whichever_is_sooner(
    settings: Settings, images: ObjectImageStore
) -> None:
    now = datetime.now(UTC)
    ages = {
        "week list, 8 days": (7, 8),
        "week list, 6 days": (7, 6),
        "long list, 95 days": (3650, 95),
    }
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        for name, (days, age) in ages.items():
            conn.execute(
                "WITH l AS (INSERT INTO watchlists (name, priority, owner, retention_days)"
                " VALUES (%(name)s, 'warning', 'o', %(days)s) RETURNING id),"
                " a AS (INSERT INTO alerts (watchlist_id, entry_id, priority, plate_text,"
                " plate_normalized, camera_id, track_id, first_seen, last_seen)"
                " SELECT id, gen_random_uuid(), 'warning', 'AB12CDE', 'AB12CDE', 'c', 't',"
                " %(seen)s, %(seen)s FROM l RETURNING id),"
                ' r AS (INSERT INTO alert_reads (alert_id, entry_id, event_id, "timestamp")'
                " SELECT id, gen_random_uuid(), gen_random_uuid(), %(seen)s FROM a)"
                " INSERT INTO alert_outbox (alert_id) SELECT id FROM a",
                {"name": name, "days": days, "seen": now - timedelta(days=age)},
            )
        result = apply_retention(conn, images, timedelta(days=90), now)
        kept = conn.execute(
            "SELECT l.name FROM alerts a JOIN watchlists l ON l.id = a.watchlist_id"
        ).fetchall()

    assert result.alerts_deleted == 2
    assert kept == [("week list, 6 days",)]
    assert db_scalar(settings, "SELECT count(*) FROM alert_reads") == 1
    assert db_scalar(settings, "SELECT count(*) FROM alert_outbox") == 1
