"""Passes kept by the writer on the real server (``db/passes.py``): the passes of the rule
(checked against the brute-force model of ``tests/unit/passes``) whatever the batches, a replay
that changes no row, a late read that merges two passes, two writers on one camera at once, and
retention."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from typer.testing import CliRunner

from alpr_core.cli import app
from alpr_core.config import Settings
from alpr_core.db.detections import DetectionRow, DetectionWriter
from alpr_core.db.passes import pass_read
from alpr_core.db.retention import apply_retention
from alpr_core.events.parse import parse_event
from alpr_core.images.object_store import ObjectImageStore
from tests.integration.stats_model import assert_pass_counts
from tests.unit.factories import LIMITS, record
from tests.unit.passes.rule_model import model_summary

GAP = timedelta(seconds=60)
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def row(
    second: int,
    *,
    camera: str = "cam-1",
    track: str = "t1",
    plate: str = "AB12CDE",
    confidence: float = 0.5,
    direction: str | None = None,
) -> DetectionRow:
    fields: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "captured_at": (START + timedelta(seconds=second)).isoformat(),
        "camera_id": camera,
        "track_id": track,
        "plate": {"text": plate, "confidence": confidence},
        "extras": {"direction": direction} if direction else None,
    }
    event = parse_event(record(**fields), LIMITS, datetime.now(UTC))
    return DetectionRow(event, schema_id=1, image_object_key=None)


def passes(settings: Settings) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.db.conninfo()) as conn:
        return conn.execute("SELECT * FROM passes ORDER BY id").fetchall()


def summaries(settings: Settings) -> set[tuple[str, datetime, datetime, int]]:
    with psycopg.connect(settings.db.conninfo()) as conn:
        found = conn.execute("SELECT camera_id, first_seen, last_seen, read_count FROM passes")
        return {(c, f, last, n) for c, f, last, n in found}


def assert_counted(settings: Settings) -> None:
    with psycopg.connect(settings.db.conninfo()) as conn:
        assert_pass_counts(conn)


def write(settings: Settings, *batches: list[DetectionRow]) -> int:
    writer = DetectionWriter(pass_gap=GAP)
    with psycopg.connect(settings.db.conninfo()) as conn:
        return sum(writer.write(conn, batch).inserted for batch in batches)


def traffic() -> list[DetectionRow]:
    """Two cameras, tracks that change plate text (look-alikes) and a plate read by two
    tracks, in time order."""
    return [
        row(0, track="a", plate="AB12CDE", confidence=0.9),
        row(5, track="a", plate="A812CDE", confidence=0.4),
        row(10, track="b", plate="AB12CDE"),  # a second track of the same plate: one pass
        row(20, camera="cam-2", track="a", plate="AB12CDE"),
        row(30, track="c", plate="XY99ZZZ"),
        row(200, track="a", plate="AB12CDE"),  # track and plate again, past the gap
        row(230, camera="cam-2", track="z", plate="QQ11QQQ"),
    ]


def test_passes_follow_the_rule_in_any_batches(settings: Settings) -> None:
    reads = traffic()
    assert write(settings, reads[:2], reads[2:3], reads[3:6], reads[6:]) == len(reads)
    expected = model_summary([pass_read(r.event) for r in reads])
    assert summaries(settings) == expected
    assert len(expected) == 5
    assert_counted(settings)


def test_a_pass_keeps_its_best_read_and_consensus(settings: Settings) -> None:
    reads = [
        row(0, plate="AB12CDE", confidence=0.5, direction="in"),
        row(1, plate="A812CDE", confidence=0.7),
        row(2, plate="A8-12 CDE", confidence=0.3),
        row(3, plate="XB12CDE", confidence=0.9),  # the most confident read is a misread
    ]
    write(settings, reads[:1], reads[1:])
    with psycopg.connect(settings.db.conninfo()) as conn:
        found = conn.execute(
            "SELECT plate_text, plate_normalized, read_count, best_event_id::text,"
            " best_confidence, direction FROM passes"
        ).fetchall()
    assert found == [("A812CDE", "A812CDE", 4, reads[3].event.event_id, 0.9, "in")]


def test_a_replay_changes_no_row(settings: Settings) -> None:
    reads = traffic()
    write(settings, reads)
    before = passes(settings)
    assert write(settings, reads, reads[2:5]) == 0
    assert passes(settings) == before
    newer = row(40, track="c", plate="XY99ZZZ")
    assert write(settings, [*reads[3:], newer]) == 1, "only the new read of an overlapping batch"
    counts = {p[0]: p[5] for p in passes(settings)}
    assert sum(counts.values()) == len(reads) + 1
    assert_counted(settings)


def test_a_late_read_merges_the_passes_it_bridges_into_the_older(settings: Settings) -> None:
    write(settings, [row(0, track="a"), row(100, track="b", plate="XY99ZZZ")])
    older = min(p[0] for p in passes(settings))
    write(settings, [row(50, track="a", plate="XY99ZZZ")])
    merged = passes(settings)
    assert [(p[0], p[5]) for p in merged] == [(older, 3)]
    assert_counted(settings)


def test_a_late_read_moves_its_pass_to_an_earlier_hour_in_the_counts(settings: Settings) -> None:
    boundary = START.replace(minute=0, second=0) + timedelta(hours=1)
    second = int((boundary - START).total_seconds())
    write(settings, [row(second + 10, track="a"), row(second + 20, track="a")])
    write(settings, [row(second - 20, track="a")])  # late, and in the hour before
    with psycopg.connect(settings.db.conninfo()) as conn:
        counted = conn.execute("SELECT hour, passes FROM pass_rollups ORDER BY hour").fetchall()
    assert counted == [(boundary - timedelta(hours=1), 1), (boundary, 0)]
    assert_counted(settings)


def test_two_writers_on_one_camera_make_the_passes_one_would(settings: Settings) -> None:
    reads = [row(s, track=f"t{s // 40}", plate=f"AB{s // 40:02d}CDE") for s in range(0, 400, 5)]
    halves = reads[0::2], reads[1::2]  # interleaved: each batch of one writer meets the other's
    start = threading.Barrier(2)

    def run(rows: list[DetectionRow]) -> None:
        writer = DetectionWriter(pass_gap=GAP)
        with psycopg.connect(settings.db.conninfo()) as conn:
            start.wait()
            for i in range(0, len(rows), 3):
                writer.write(conn, rows[i : i + 3])

    threads = [threading.Thread(target=run, args=(half,)) for half in halves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert summaries(settings) == model_summary([pass_read(r.event) for r in reads])
    assert_counted(settings)


def test_retention_deletes_the_passes_whose_reads_are_gone(
    settings: Settings, images: ObjectImageStore
) -> None:
    write(settings, [row(0)])
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO passes (camera_id, first_seen, last_seen, read_count, plate_text,"
            " plate_normalized, votes, keys, best_event_id, best_at,"
            " best_confidence, best_plate_text, best_plate_normalized, best_track_id)"
            " SELECT 'cam-old', at, at, 1, 'OLD1', 'OLD1', '{}', '{}',"
            " gen_random_uuid(), at, 0.5, 'OLD1', 'OLD1', 't'"
            " FROM (SELECT %s::timestamptz) AS t(at)",
            (datetime.now(UTC) - timedelta(days=100),),
        )
        result = apply_retention(conn, images, timedelta(days=90), datetime.now(UTC))
    assert result.passes_deleted == 1
    assert [p[1] for p in passes(settings)] == ["cam-1"]


def test_a_rebuild_makes_the_passes_of_every_stored_read(settings: Settings) -> None:
    reads = traffic()
    with psycopg.connect(settings.db.conninfo()) as conn:
        DetectionWriter().write(conn, list(reversed(reads)))  # stored before passes were kept
    kept = row(300, camera="cam-3")
    write(settings, [kept])  # and one read whose pass is kept
    result = CliRunner().invoke(app, ["passes", "rebuild"], env=settings.as_environment())
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"6 passes from {len(reads) + 1} reads")
    assert summaries(settings) == model_summary([pass_read(r.event) for r in [*reads, kept]])
    assert_counted(settings)
