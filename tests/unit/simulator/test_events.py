from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from alpr_core.events.parse import parse_event
from alpr_core.simulator.events import cameras, tracks
from tests.unit.factories import LIMITS


def test_simulated_reads_pass_validation_and_come_in_tracks() -> None:
    now = datetime.now(UTC)
    reads = list(islice(tracks(random.Random(3), cameras(3), now, 0.5), 300))
    events = [parse_event(r.record, LIMITS, datetime.now(UTC)) for r in reads]

    per_track = Counter(e.track_id for e in events)
    assert min(per_track.values()) >= 2
    assert {e.camera_id for e in events} <= {"cam-000", "cam-001", "cam-002"}
    inline = [e for e in events if e.plate_image is not None]
    assert 0.3 < len(inline) / len(events) < 0.7
    assert all(10_000 <= len(e.plate_image.data) <= 30_000 for e in inline if e.plate_image)
    assert all(e.images.plate_url for e in events if e.plate_image is None)
    confidences = sorted(e.confidence for e in events)
    assert confidences[len(confidences) // 2] > 0.8  # most reads are confident
    assert confidences[0] < 0.7  # and some are not
    assert (
        sum(
            r.record["plate"]["normalized_text"] != r.true_plate.replace(" ", "").replace("-", "")
            for r in reads
        )
        > 10
    )  # OCR confusions happen


def test_listed_plates_are_replayed_at_their_share() -> None:
    listed = ("AB12CDE", "XY99ZZZ")
    reads = list(
        islice(
            tracks(random.Random(1), cameras(4), datetime.now(UTC), 0.0, lambda: listed, 1.0),
            200,
        )
    )
    assert {read.true_plate for read in reads} <= set(listed)


def test_without_a_share_the_stream_is_the_same_as_before() -> None:
    def plates(**listing: Any) -> list[str]:
        stream = tracks(
            random.Random(7), cameras(4), datetime(2026, 1, 1, tzinfo=UTC), 0.0, **listing
        )
        return [read.true_plate for read in islice(stream, 300)]

    assert plates() == plates(listed=lambda: ("AB12CDE",), listed_share=0.0)
    assert plates() != plates(listed=lambda: ("AB12CDE",), listed_share=0.5)
