"""N events published → exactly N rows, their passes and the inline images as objects; a replay
adds nothing."""

from __future__ import annotations

from typing import Any, LiteralString

import psycopg

from alpr_core.config import Settings
from alpr_core.images.object_store import ObjectImageStore
from tests.integration.conftest import db_scalar, running_storage, wait_until
from tests.integration.helpers import simulate

N = 400


def _replay_settings(settings: Settings) -> Settings:
    """Same topic, a new consumer group: it reads every message again from the start."""
    kafka = settings.kafka.model_copy(update={"group_id": settings.kafka.group_id + "-replay"})
    return settings.model_copy(update={"kafka": kafka})


def db_rows(settings: Settings, query: LiteralString) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.db.conninfo()) as conn:
        return conn.execute(query).fetchall()


def test_n_events_make_n_rows_and_a_replay_makes_no_duplicates(
    settings: Settings, images: ObjectImageStore
) -> None:
    published = simulate(settings, N, inline_share=0.5)
    inline = published.version_counts[2]
    assert 0 < inline < N  # both producer versions are in the stream

    def rows() -> int:
        return db_scalar(settings, "SELECT count(*) FROM plate_detections")

    with running_storage(settings) as storage:
        wait_until(lambda: rows() == N, what=f"{N} rows")
        wait_until(lambda: storage.metric("alpr_offsets_committed_total") > 0, what="a commit")
    assert storage.metric("alpr_messages_consumed_total") == N
    assert storage.metric("alpr_database_writes_total") == N
    assert storage.metric("alpr_images_stored_total") == inline
    assert images.count() == inline
    assert db_scalar(settings, "SELECT sum(read_count) FROM passes") == N
    passes = db_rows(settings, "SELECT * FROM passes ORDER BY id")

    with running_storage(_replay_settings(settings)) as replay:
        wait_until(lambda: replay.metric("alpr_duplicate_events_total") == N, what="the replay")
    assert replay.metric("alpr_database_writes_total") == 0
    assert rows() == N
    assert db_rows(settings, "SELECT * FROM passes ORDER BY id") == passes, "a replay changes none"
    assert db_scalar(settings, "SELECT count(DISTINCT event_id) FROM plate_detections") == N
    assert images.count() == inline


def test_v1_and_v2_events_are_stored_with_their_images(
    settings: Settings, images: ObjectImageStore
) -> None:
    published = simulate(settings, 60, inline_share=0.5, seed=5)
    with running_storage(settings):
        wait_until(lambda: db_scalar(settings, "SELECT count(*) FROM plate_detections") == 60)

    with psycopg.connect(settings.db.conninfo()) as conn:
        stored = conn.execute(
            "SELECT image_object_key, image_path, plate_url, image_content_type, schema_id,"
            " site, vehicle_make, extras->>'direction', plate_normalized FROM plate_detections"
        ).fetchall()
    inline = [row for row in stored if row[0] is not None]
    by_url = [row for row in stored if row[0] is None]
    assert len(inline) == published.version_counts[2]
    assert len({row[4] for row in inline}) == 1
    assert len({row[4] for row in by_url}) == 1
    assert {row[4] for row in inline} != {row[4] for row in by_url}  # two writer schemas
    for key, path, plate_url, content_type, *_ in inline:
        assert path == key
        assert plate_url is None
        assert content_type == "image/jpeg"
        stored_object = images.get(key)
        assert stored_object is not None
        assert stored_object.data[:3] == b"\xff\xd8\xff"
        assert stored_object.content_type == "image/jpeg"
    for _key, path, plate_url, *_ in by_url:
        assert path == plate_url
        assert plate_url.startswith("s3://alpr-plate-images/edge/")
    assert all(row[5] and row[6] and row[7] in ("in", "out") and row[8] for row in stored)
