"""The hourly read counts on PostgreSQL without TimescaleDB (migration 0026): an upgrade counts
the reads already stored, and the insert trigger counts every read stored after it, once."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import islice

import psycopg
from psycopg_pool import ConnectionPool

from alpr_core.config import Settings
from alpr_core.db.migrate import migrate
from alpr_core.events.avro import DecodedEvent
from alpr_core.events.model import PlateEvent
from alpr_core.events.parse import EventLimits, parse_event
from alpr_core.images.object_store import ObjectImageStore, edge_uploads_of
from alpr_core.simulator.events import cameras, tracks
from alpr_core.storage.sink import DetectionSink
from tests.integration.stats_model import assert_same_series, expected_series

LIMITS = EventLimits(1_048_576, timedelta(days=1), timedelta(days=90))


def _events(start: datetime, count: int, seed: int) -> list[DecodedEvent]:
    reads = islice(tracks(random.Random(seed), cameras(4, sites=2), start, 0.0), count)
    return [DecodedEvent(parse_event(r.record, LIMITS, datetime.now(UTC)), 1) for r in reads]


def _store(
    settings: Settings,
    images: ObjectImageStore,
    events: list[DecodedEvent],
    *,
    plate_sketches: bool = True,
) -> None:
    """Through the storage sink; without the plate sketches for a schema that has none."""
    with ConnectionPool(settings.db.conninfo(), min_size=1, max_size=1) as pool:
        sink = DetectionSink(
            pool, images, 2, edge_uploads_of(settings), plate_sketches=plate_sketches
        )
        sink.write(events)
        sink.close()


def _rollups(settings: Settings) -> list[tuple[object, ...]]:
    with psycopg.connect(settings.db.conninfo()) as conn:
        rows = conn.execute(
            "SELECT hour, camera_id, site, reads, confidence_sum / reads FROM read_rollups"
            " ORDER BY hour, camera_id, site"
        ).fetchall()
    return [tuple(row) for row in rows]


def test_an_upgrade_counts_the_stored_reads_and_the_trigger_the_new_ones(
    empty_database: Settings, images: ObjectImageStore
) -> None:
    migrate(empty_database.db.conninfo(), up_to=25)
    now = datetime.now(UTC)
    before = _events(now - timedelta(hours=5), 80, seed=31)
    _store(empty_database, images, before, plate_sketches=False)
    migrate(empty_database.db.conninfo())
    stored: list[PlateEvent] = [d.event for d in before]
    assert_same_series(_rollups(empty_database), expected_series(stored, "hour", "camera"))

    after = _events(now - timedelta(hours=4, minutes=30), 120, seed=32)  # the same hours too
    _store(empty_database, images, after)
    _store(empty_database, images, after[:50] + before[:20])  # replays count nothing
    stored += [d.event for d in after]
    assert_same_series(_rollups(empty_database), expected_series(stored, "hour", "camera"))
