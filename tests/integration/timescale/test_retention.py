"""Retention on a hypertable: expired chunks (found by show_chunks) go, with their images."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from alpr_core.db.retention import apply_retention
from alpr_core.images.object_store import ObjectImageStore, local_store
from tests.integration.timescale.conftest import simulated_rows, store_images, write_rows

Conn = psycopg.Connection[tuple[object, ...]]


def test_retention_drops_old_chunks_and_their_images(conn: Conn, tmp_path: Path) -> None:
    images = ObjectImageStore(local_store(tmp_path))
    now = datetime.now(UTC)
    old = simulated_rows(now - timedelta(days=10), 100, seed=3)
    recent = simulated_rows(now - timedelta(hours=2), 100, seed=4)
    store_images(images, old + recent)
    write_rows(conn, old + recent)

    result = apply_retention(conn, images, keep=timedelta(days=7), now=now)

    old_keys = [row.image_object_key for row in old if row.image_object_key]
    recent_keys = [row.image_object_key for row in recent if row.image_object_key]
    assert (result.partitions_dropped, result.images_deleted) == (1, len(old_keys))
    assert conn.execute("SELECT count(*) FROM show_chunks('plate_detections')").fetchone() == (1,)
    stored = {str(e) for (e,) in conn.execute("SELECT event_id FROM plate_detections")}
    assert stored == {row.event.event_id for row in recent}
    assert all(images.get(key) is None for key in old_keys)
    assert all(images.get(key) is not None for key in recent_keys)


def test_retention_finds_nothing_to_drop_inside_the_period(conn: Conn, tmp_path: Path) -> None:
    images = ObjectImageStore(local_store(tmp_path))
    now = datetime.now(UTC)
    write_rows(conn, simulated_rows(now - timedelta(days=3), 50, seed=5))
    result = apply_retention(conn, images, keep=timedelta(days=7), now=now)
    assert (result.partitions_dropped, result.partitions_locked) == (0, 0)
    assert conn.execute("SELECT count(*) FROM plate_detections").fetchone() == (50,)
