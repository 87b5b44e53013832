from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from itertools import islice

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
