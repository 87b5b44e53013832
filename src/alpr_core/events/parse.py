"""Turn a decoded Avro record into a validated :class:`PlateEvent`.

The record comes decoded with the writer's schema, so it may lack fields a newer reader knows
(they take the reader schema's defaults here) or carry fields this reader does not know (they are
kept in ``unknown_fields``, not dropped).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from alpr_core.errors import RejectedEvent, RejectReason
from alpr_core.events.image_check import check_image
from alpr_core.events.model import ImageUrls, InlineImage, PlateEvent, Vehicle

MAX_PLATE_TEXT_CHARS = 20
MAX_ID_CHARS = 128
MAX_TEXT_CHARS = 500
# Unknown fields (and extras) are stored as JSON: caps on their nesting and their total size.
MAX_UNKNOWN_DEPTH = 16  # containers nested in one field's value
MAX_RECORD_DEPTH = MAX_UNKNOWN_DEPTH + 2  # the same, counted from the record (record, section)
MAX_UNKNOWN_NODES = 10_000  # values, containers and keys, over all unknown fields
MAX_UNKNOWN_CHARS = 1_048_576  # characters of text and bytes, over all unknown fields

KNOWN_FIELDS: dict[str, frozenset[str]] = {
    "": frozenset(
        {
            "event_id",
            "captured_at",
            "camera_id",
            "track_id",
            "plate",
            "vehicle",
            "images",
            "latency_ms",
            "node",
            "extras",
            "plate_image",
        }
    ),
    "plate": frozenset({"text", "normalized_text", "confidence", "region"}),
    "vehicle": frozenset({"type", "make", "model", "color"}),
    "images": frozenset({"plate_url", "vehicle_url", "frame_url"}),
    "node": frozenset({"site", "host"}),
    "extras": frozenset({"roi", "direction", "quality_score", "frame_number"}),
}

_NOT_PLATE_CHARS = re.compile(r"[^0-9A-Z]")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_EXTRAS_FIELDS = tuple(sorted(KNOWN_FIELDS["extras"]))


@dataclass(frozen=True, slots=True)
class EventLimits:
    """What an acceptable event looks like, beyond its schema."""

    max_image_bytes: int
    max_clock_skew: timedelta
    max_age: timedelta
    max_image_pixels: int = 4_000_000


_OCR_FOLD = str.maketrans("ODQILBSZG", "000118526")  # alpr_ocr_key, migration 0003


def in_utc(value: datetime) -> datetime:
    """``value`` in UTC; a time without a zone is UTC. Converted in Python, not by PostgreSQL:
    Python accepts offsets up to 23:59, PostgreSQL only to 15:59 in a time's text (as COPY and
    one-shot statements send it). Raises ``OverflowError`` past year 1-9999 in UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def normalize_plate(text: str) -> str:
    """The canonical search form of a plate: upper case letters and digits only."""
    return _NOT_PLATE_CHARS.sub("", text.upper())


def ocr_key(plate_normalized: str) -> str:
    """The plate with the characters recognisers confuse folded into one of each group (as
    ``alpr_ocr_key``, migration 0003, does in the database)."""
    return plate_normalized.translate(_OCR_FOLD)


def parse_event(record: Mapping[str, Any], limits: EventLimits, now: datetime) -> PlateEvent:
    """Validate ``record`` and build the event, or raise :class:`RejectedEvent`."""
    plate = _section(record, "plate", required=True)
    vehicle = _section(record, "vehicle")
    images = _section(record, "images")
    node = _section(record, "node")
    plate_text = _plate_text(plate.get("text"))
    return PlateEvent(
        event_id=_event_id(record.get("event_id")),
        captured_at=_captured_at(record.get("captured_at"), limits, now),
        camera_id=_identifier(record, "camera_id"),
        track_id=_identifier(record, "track_id"),
        plate_text=plate_text,
        plate_normalized=_normalized(plate.get("normalized_text"), plate_text),
        confidence=_confidence(plate.get("confidence")),
        region=_optional_text(plate, "region"),
        vehicle=Vehicle(
            _optional_text(vehicle, "type"),
            _optional_text(vehicle, "make"),
            _optional_text(vehicle, "model"),
            _optional_text(vehicle, "color"),
        ),
        images=ImageUrls(
            _optional_text(images, "plate_url"),
            _optional_text(images, "vehicle_url"),
            _optional_text(images, "frame_url"),
        ),
        latency_ms=_latency(record.get("latency_ms", 0)),
        site=_optional_text(node, "site"),
        host=_optional_text(node, "host"),
        extras=_extras(record.get("extras")),
        plate_image=_inline_image(record.get("plate_image"), limits),
        unknown_fields=unknown_fields(record),
    )


def unknown_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """Fields the writer sent that this reader does not know, keyed by dotted path."""
    found: dict[str, Any] = {}
    for section, known in KNOWN_FIELDS.items():
        fields = record.get(section) if section else record
        if isinstance(fields, dict) and not fields.keys() <= known:
            prefix = f"{section}." if section else ""
            found.update({prefix + k: v for k, v in fields.items() if k not in known})
    budget = _Budget()
    named = {storable(key, "the name of an unknown field"): value for key, value in found.items()}
    return {key: _jsonable(value, key[:64], budget) for key, value in named.items()}


def _section(record: Mapping[str, Any], name: str, *, required: bool = False) -> Mapping[str, Any]:
    value = record.get(name)
    if isinstance(value, dict):
        return value
    if value is None and not required:
        return {}
    raise RejectedEvent(RejectReason.MISSING_FIELD, f"{name} must be a record")


def _event_id(value: Any) -> str:
    """The canonical (lower-case, hyphenated) text of a UUID; cheaper than building a UUID."""
    if not isinstance(value, str) or not _UUID.fullmatch(value):
        raise RejectedEvent(RejectReason.INVALID_EVENT_ID, "event_id is not a hyphenated UUID")
    return value.lower()


def _captured_at(value: Any, limits: EventLimits, now: datetime) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as error:
        raise RejectedEvent(
            RejectReason.INVALID_TIMESTAMP, "captured_at is not ISO 8601"
        ) from error
    try:
        parsed = in_utc(parsed)
    except OverflowError as error:
        raise RejectedEvent(
            RejectReason.INVALID_TIMESTAMP, "captured_at is out of range in UTC"
        ) from error
    if parsed > now + limits.max_clock_skew or parsed < now - limits.max_age:
        raise RejectedEvent(
            RejectReason.TIMESTAMP_OUT_OF_RANGE, f"captured_at {parsed.isoformat()} is out of range"
        )
    return parsed


def _identifier(record: Mapping[str, Any], name: str) -> str:
    value = record.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_CHARS:
        raise RejectedEvent(RejectReason.INVALID_FIELD, f"{name} must be 1-{MAX_ID_CHARS} chars")
    return storable(value, name)


def _plate_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_PLATE_TEXT_CHARS:
        raise RejectedEvent(
            RejectReason.INVALID_PLATE_TEXT, f"plate.text must be 1-{MAX_PLATE_TEXT_CHARS} chars"
        )
    return storable(value.strip(), "plate.text")


def _normalized(value: Any, plate_text: str) -> str:
    normalized = normalize_plate(value if isinstance(value, str) and value else plate_text)
    if not normalized or len(normalized) > MAX_PLATE_TEXT_CHARS:
        raise RejectedEvent(RejectReason.INVALID_PLATE_TEXT, "plate has no letters or digits")
    return normalized


def _confidence(value: Any) -> float:
    if not isinstance(value, int | float) or math.isnan(value) or not 0.0 <= value <= 1.0:
        raise RejectedEvent(RejectReason.INVALID_CONFIDENCE, "plate.confidence must be in [0, 1]")
    return round(float(value), 6)  # Avro floats carry about 7 digits; drop the float32 noise


def _optional_text(section: Mapping[str, Any], name: str) -> str | None:
    value = section.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT_CHARS:
        raise RejectedEvent(
            RejectReason.INVALID_FIELD, f"{name} must be text up to {MAX_TEXT_CHARS}"
        )
    return storable(value, name)


def _latency(value: Any) -> int:
    if not isinstance(value, int) or value < 0:
        raise RejectedEvent(RejectReason.INVALID_FIELD, "latency_ms must be a non-negative int")
    return value


def _extras(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RejectedEvent(RejectReason.INVALID_FIELD, "extras must be a record")
    quality = value.get("quality_score")
    if isinstance(quality, float) and not math.isfinite(quality):
        raise RejectedEvent(RejectReason.INVALID_FIELD, "extras.quality_score must be finite")
    budget = _Budget()
    return {key: _jsonable(value.get(key), f"extras.{key}", budget) for key in _EXTRAS_FIELDS}


def _inline_image(value: Any, limits: EventLimits) -> InlineImage | None:
    if value is None:
        return None
    if not isinstance(value, bytes):
        raise RejectedEvent(RejectReason.INVALID_IMAGE, "plate_image must be bytes")
    return check_image(value, limits.max_image_bytes, limits.max_image_pixels)


def storable(text: str, field: str) -> str:
    """``text``, unless PostgreSQL would refuse it: a NUL character, or a lone surrogate (which
    has no UTF-8 form). The detail names the field, never the value."""
    if "\x00" in text:
        raise RejectedEvent(RejectReason.INVALID_FIELD, f"{field} contains a NUL character")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            detail = f"{field} contains a lone surrogate, which is not Unicode text"
            raise RejectedEvent(RejectReason.INVALID_FIELD, detail) from error
    return text


@dataclass(slots=True)
class _Budget:
    """What the unknown fields of one event have used of the size caps so far."""

    nodes: int = 0
    chars: int = 0

    def take(self, nodes: int, chars: int = 0) -> None:
        self.nodes += nodes
        self.chars += chars
        if self.nodes > MAX_UNKNOWN_NODES or self.chars > MAX_UNKNOWN_CHARS:
            raise RejectedEvent(RejectReason.TOO_DEEP, _TOO_LARGE)


_TOO_LARGE = (
    f"unknown fields exceed {MAX_UNKNOWN_NODES} values or {MAX_UNKNOWN_CHARS} characters in all"
)
_CONTAINERS = (dict, list, tuple)
_AS_IS = (bool, int, type(None), datetime, date, time, UUID, Decimal)


def _jsonable(value: Any, field: str, budget: _Budget) -> Any:
    """``value`` as JSON PostgreSQL accepts, built with an explicit stack (no recursion), under
    the depth and size caps; bytes become ``{"base64": ...}``, non-finite floats text."""
    root = _json_node(value, field, budget, 1)
    pending = [(value, root, 1)] if isinstance(value, _CONTAINERS) else []
    while pending:
        source, target, depth = pending.pop()
        pairs = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in pairs:
            node = _json_node(item, field, budget, depth + 1)
            if isinstance(target, dict):
                budget.take(1, len(str(key)))
                target[storable(str(key), field)] = node
            else:
                target.append(node)
            if isinstance(item, _CONTAINERS):
                pending.append((item, node, depth + 1))
    return root


def _json_node(value: Any, field: str, budget: _Budget, depth: int) -> Any:
    """A scalar converted, or a new empty container that :func:`_jsonable` fills."""
    if isinstance(value, str):
        budget.take(1, len(value))
        return storable(value, field)
    budget.take(1, len(value) if isinstance(value, bytes) else 0)
    if isinstance(value, _CONTAINERS):
        if depth > MAX_UNKNOWN_DEPTH:
            detail = f"{field} is nested deeper than {MAX_UNKNOWN_DEPTH} levels"
            raise RejectedEvent(RejectReason.TOO_DEEP, detail)
        return {} if isinstance(value, dict) else []
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, _AS_IS):
        return value
    return storable(str(value), field)
