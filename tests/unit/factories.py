"""Valid records and events to start each unit test from."""

from __future__ import annotations

import copy
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image

from alpr_core.events.parse import EventLimits

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
LIMITS = EventLimits(
    max_image_bytes=100_000, max_clock_skew=timedelta(days=1), max_age=timedelta(days=90)
)

_RECORD: dict[str, Any] = {
    "event_id": "0b7c4f8e-3c1a-4d6b-9a55-1f0e2d3c4b5a",
    "captured_at": "2026-11-28T11:59:58.123+00:00",
    "camera_id": "cam-001",
    "track_id": "trk-17",
    "plate": {"text": "AB12 CDE", "normalized_text": "AB12CDE", "confidence": 0.93, "region": "GB"},
    "vehicle": {"type": "car", "make": "Ford", "model": "Focus", "color": "blue"},
    "images": {
        "plate_url": "s3://alpr-plate-images/edge/cam-001/x.jpg",
        "vehicle_url": None,
        "frame_url": None,
    },
    "latency_ms": 42,
    "node": {"site": "site-1", "host": "edge-001"},
    "extras": {"roi": "lane-1", "direction": "in", "quality_score": 0.8, "frame_number": 3},
}


def record(**changes: Any) -> dict[str, Any]:
    """A valid version-1 record with top-level ``changes`` applied."""
    result = copy.deepcopy(_RECORD)
    result.update(changes)
    return result


def image_bytes(image_format: str = "JPEG", size: tuple[int, int] = (40, 12)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 200, 0)).save(out, format=image_format)
    return out.getvalue()
