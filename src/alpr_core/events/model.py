"""The in-memory form of one plate read, after decoding and validation.

Treat these as immutable. They are not declared ``frozen`` because a frozen dataclass sets each
field through ``object.__setattr__``, which costs the consumer measurably at thousands per second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_DIRECTION = 64  # longer is free text, not a heading


@dataclass(slots=True)
class Vehicle:
    type: str | None = None
    make: str | None = None
    model: str | None = None
    color: str | None = None


@dataclass(slots=True)
class ImageUrls:
    """Images the edge uploaded itself (version 1), e.g. ``s3://alpr-plate-images/...``."""

    plate_url: str | None = None
    vehicle_url: str | None = None
    frame_url: str | None = None


@dataclass(slots=True)
class InlineImage:
    """A plate crop carried in the event (version 2), already checked to be a JPEG or PNG."""

    data: bytes
    content_type: str
    extension: str


@dataclass(slots=True)
class PlateEvent:
    event_id: str  # canonical lower-case hyphenated UUID text
    captured_at: datetime
    camera_id: str
    track_id: str
    plate_text: str
    plate_normalized: str
    confidence: float
    region: str | None
    vehicle: Vehicle
    images: ImageUrls
    latency_ms: int
    site: str | None
    host: str | None
    extras: dict[str, Any] | None
    plate_image: InlineImage | None
    unknown_fields: dict[str, Any]

    @property
    def direction(self) -> str | None:
        return direction_of((self.extras or {}).get("direction"))


def direction_of(value: Any) -> str | None:
    """``extras.direction`` when the edge sends one as a short text (a heading such as ``in``
    or ``northbound``); anything else is no direction."""
    return value if isinstance(value, str) and len(value) <= MAX_DIRECTION else None
