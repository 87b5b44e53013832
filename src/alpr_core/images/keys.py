"""Object keys for plate crops: the design's layout, unique and deterministic per event.

``YYYY/MM/DD/plate_YYYYMMDD_HHMMSS_mmm_<event_id>.<ext>``: the design's date folders and name, with
the milliseconds as ``NNN`` and the event id appended so two reads in one millisecond never share
a key, and a replay of the same event writes the same key again.
"""

from __future__ import annotations

from datetime import UTC

from alpr_core.events.model import PlateEvent


def plate_image_key(event: PlateEvent, extension: str) -> str:
    t = event.captured_at.astimezone(UTC)
    millis = t.microsecond // 1000
    return f"{t:%Y/%m/%d}/plate_{t:%Y%m%d_%H%M%S}_{millis:03d}_{event.event_id}.{extension}"
