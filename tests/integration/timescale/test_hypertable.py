"""The migrations on TimescaleDB: the hypertable branch, and the writer's idempotent inserts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from alpr_core.db.migrate import Migration, available_migrations
from alpr_core.db.passes import pass_read
from tests.integration.timescale.conftest import simulated_rows, write_rows
from tests.unit.passes.rule_model import model_summary

Conn = psycopg.Connection[tuple[object, ...]]


def test_migrations_make_plate_detections_a_hypertable(
    migrated: list[Migration], conn: Conn
) -> None:
    assert [m.version for m in migrated] == [m.version for m in available_migrations()]
    hypertables = conn.execute(
        "SELECT hypertable_name FROM timescaledb_information.hypertables"
    ).fetchall()
    assert hypertables == [("plate_detections",)]
    partitioned = conn.execute(
        "SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'plate_detections'::regclass"
    ).fetchone()
    assert partitioned == (0,)


def test_rows_land_in_one_chunk_a_day(conn: Conn) -> None:
    now = datetime.now(UTC)
    rows = simulated_rows(now - timedelta(days=3), 100, seed=1)
    rows += simulated_rows(now - timedelta(days=2), 100, seed=2)
    assert write_rows(conn, rows) == len(rows)
    chunks = conn.execute("SELECT count(*) FROM show_chunks('plate_detections')").fetchone()
    assert chunks == (2,)
    assert conn.execute("SELECT count(*) FROM plate_detections").fetchone() == (len(rows),)


def test_a_replay_inserts_nothing_twice(conn: Conn) -> None:
    rows = simulated_rows(datetime.now(UTC) - timedelta(hours=2), 200, seed=2)
    assert write_rows(conn, rows[:150]) == 150
    assert write_rows(conn, rows) == 50  # the first 150 again, and 50 new
    assert write_rows(conn, rows) == 0
    stored = conn.execute("SELECT count(*), count(DISTINCT event_id) FROM plate_detections")
    assert stored.fetchone() == (200, 200)


def test_passes_are_kept_on_timescaledb_as_the_rule_makes_them(conn: Conn) -> None:
    rows = simulated_rows(datetime.now(UTC) - timedelta(hours=2), 120, seed=4)
    write_rows(conn, rows[:70])
    before_replay = write_rows(conn, rows)  # 70 again (changing nothing), and 50 new
    assert before_replay == 50
    found = conn.execute("SELECT camera_id, first_seen, last_seen, read_count FROM passes")
    assert {tuple(row) for row in found} == model_summary([pass_read(r.event) for r in rows])
