"""Fuzzy search's dictionary: a plate is found while pending and after the indexer moved it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.rows import dict_row

from alpr_core.api.queries import PlateFilters, page_queries
from alpr_core.api.search import MatchMode, plate_match
from alpr_core.config import Settings
from alpr_core.db.api_keys import ApiKey
from alpr_core.db.detections import DetectionRow, DetectionWriter
from alpr_core.db.plate_texts import DRAIN_PLATES, index_pending_plates
from alpr_core.events.parse import parse_event
from alpr_core.jobs.plate_indexer import PlateIndexer
from tests.integration.conftest import db_scalar, wait_until
from tests.unit.factories import LIMITS, record

_ANY_KEY = ApiKey(uuid.uuid4(), "test", "viewer", None, None, datetime.now(UTC), None)
NEAR = ["KXT4821", "KXT4B21", "KT4821", "KXA4829", "KXT48221"]  # look-alike, drop, 2 subs, insert
FAR = ["ZZZ9999", "KAB4800"]  # the second is three edits away


def _store(settings: Settings, plates: list[str]) -> None:
    now = datetime.now(UTC)
    rows = [
        DetectionRow(
            parse_event(
                record(
                    event_id=str(uuid.uuid4()),
                    captured_at=(now - timedelta(minutes=n)).isoformat(),
                    plate={"text": plate, "normalized_text": plate, "confidence": 0.9},
                ),
                LIMITS,
                now,
            ),
            schema_id=1,
            image_object_key=None,
        )
        for n, plate in enumerate(plates)
    ]
    with psycopg.connect(settings.db.conninfo()) as conn:
        DetectionWriter().write(conn, rows)


def _fuzzy(settings: Settings, term: str) -> list[str]:
    [(query, params)] = page_queries(
        _ANY_KEY, PlateFilters(), None, 100, plate_match(MatchMode.FUZZY, term)
    )
    with psycopg.connect(settings.db.conninfo(), row_factory=dict_row) as conn:
        rows = conn.execute(query, params).fetchall()
    return [row["plate_normalized"] for row in rows]


def test_plates_within_two_edits_are_found_pending_and_indexed(settings: Settings) -> None:
    _store(settings, NEAR + FAR)

    while_pending = _fuzzy(settings, "KXT4821")
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        assert index_pending_plates(conn) >= len(NEAR + FAR)  # a pair per plate and day
        assert conn.execute("SELECT count(*) FROM plate_texts_pending").fetchone() == (0,)
    once_indexed = _fuzzy(settings, "KXT4821")

    assert sorted(while_pending) == sorted(NEAR)
    assert once_indexed == while_pending
    assert once_indexed[:2] == ["KXT4821", "KXT4B21"]  # no edit once look-alikes are folded


def test_the_background_indexer_drains_the_pending_plates(settings: Settings) -> None:
    _store(settings, NEAR)
    indexer = PlateIndexer(settings.db.conninfo(), interval_s=0.1)
    indexer.start()
    try:
        wait_until(
            lambda: db_scalar(settings, "SELECT count(*) FROM plate_texts_pending") == 0,
            timeout_s=10,
            what="the indexer to drain the pending plates",
        )
    finally:
        indexer.stop()
    assert db_scalar(settings, "SELECT count(*) FROM plate_texts") == len(NEAR)


def test_one_tick_drains_a_backlog_larger_than_a_chunk(settings: Settings) -> None:
    plates = [f"BK{n:05d}" for n in range(DRAIN_PLATES * 2 + DRAIN_PLATES // 2)]
    _store(settings, plates)

    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        moved = PlateIndexer(settings.db.conninfo()).tick(conn)

    assert moved == len(plates)
    assert db_scalar(settings, "SELECT count(*) FROM plate_texts_pending") == 0
    assert db_scalar(settings, "SELECT count(*) FROM plate_texts") == len(plates)
