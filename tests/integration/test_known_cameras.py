"""INGEST_KNOWN_CAMERAS_ONLY on the Kafka path: reads of unregistered or disabled cameras go to
the dead-letter topic as ``unknown_camera``; the registered camera's reads in the same batch are
stored."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import psycopg

from alpr_core.config import Settings
from alpr_core.db.cameras import CameraSpec, set_enabled, upsert_camera
from tests.integration.conftest import db_scalar, running_storage, wait_until
from tests.integration.helpers import headers_of, publisher, read_topic
from tests.unit.factories import record


def _read(camera_id: str) -> dict[str, Any]:
    fields = {"event_id": str(uuid.uuid4()), "captured_at": datetime.now(UTC).isoformat()}
    return record(camera_id=camera_id, **fields)


def known_cameras_only(settings: Settings) -> Settings:
    ingest = settings.ingest.model_copy(update={"known_cameras_only": True})
    return settings.model_copy(update={"ingest": ingest})


def test_unknown_and_disabled_cameras_are_dead_lettered_beside_stored_reads(
    settings: Settings,
) -> None:
    settings = known_cameras_only(settings)
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        upsert_camera(conn, CameraSpec("cam-known", "site-1"))
        upsert_camera(conn, CameraSpec("cam-off", "site-1"))
        set_enabled(conn, "cam-off", enabled=False)
    sent = [_read(c) for c in ("cam-known", "cam-nobody", "cam-known", "cam-off", "CAM-KNOWN")]
    out = publisher(settings)
    for read in sent:
        out.publish(read)
    out.flush()

    with running_storage(settings) as storage:
        wait_until(
            lambda: (
                storage.metric("alpr_messages_consumed_total") == len(sent)
                and storage.metric("alpr_offsets_committed_total") > 0
            ),
            what="every message consumed and committed",
        )
        wait_until(lambda: db_scalar(settings, "SELECT count(*) FROM plate_detections") == 2)
        labels = {"reason": "unknown_camera"}
        assert storage.metric("alpr_events_dead_lettered_total", labels) == 3
        assert storage.metric("alpr_processing_errors_total", labels) == 3
        camera = {"camera_id": "cam-known"}
        assert storage.metric("alpr_camera_events_total", camera) == 2

    dead = read_topic(settings, settings.kafka.dlq_topic, 3)
    assert Counter(headers_of(m)["alpr.dlq.reason"] for m in dead) == {"unknown_camera": 3}
    with psycopg.connect(settings.db.conninfo()) as conn:
        stored = conn.execute("SELECT DISTINCT camera_id FROM plate_detections").fetchall()
    assert stored == [("cam-known",)]
