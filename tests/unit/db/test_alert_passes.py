"""A batch's hits grouped into passes for alpr_record_passes: one entry at one camera with one
track, each read within the window of the one before; in the order the locks are taken."""

from __future__ import annotations

import uuid
from datetime import timedelta

from alpr_core.alerts.matcher import ActiveEntry
from alpr_core.db.alerts import passes_of
from alpr_core.events.model import PlateEvent
from alpr_core.events.parse import parse_event
from tests.unit.factories import LIMITS, NOW, record

WINDOW = timedelta(seconds=60)
LIST = uuid.uuid4()
FIRST, SECOND = sorted((uuid.uuid4(), uuid.uuid4()), key=str)


def entry(entry_id: uuid.UUID) -> ActiveEntry:
    return ActiveEntry(entry_id, LIST, "AB12CDE", "exact")


def read(seconds: int, camera: str = "cam-001", track: str = "trk-1") -> PlateEvent:
    at = NOW - timedelta(minutes=10) + timedelta(seconds=seconds)
    return parse_event(
        record(
            event_id=str(uuid.uuid4()),
            captured_at=at.isoformat(),
            camera_id=camera,
            track_id=track,
        ),
        LIMITS,
        NOW,
    )


def test_reads_of_one_track_close_in_time_are_one_pass_in_time_order() -> None:
    late, early = read(5), read(0)
    [one] = passes_of([(entry(FIRST), late), (entry(FIRST), early)], WINDOW)
    assert one["events"] == [early.event_id, late.event_id]
    assert one["ats"] == [early.captured_at.isoformat(), late.captured_at.isoformat()]


def test_a_gap_past_the_window_another_track_camera_or_entry_starts_a_pass() -> None:
    hits = [
        (entry(FIRST), read(0)),
        (entry(FIRST), read(61)),  # past the window after the one before
        (entry(FIRST), read(62, track="trk-2")),
        (entry(FIRST), read(63, camera="cam-002")),
        (entry(SECOND), read(64)),
    ]
    passes = passes_of(hits, WINDOW)
    assert len(passes) == 5
    keys = [(p["entry"], p["camera"]) for p in passes]
    assert keys == sorted(keys)  # the locks' order
