"""One posted item → a validated event, by the same decoding and validation as the Kafka path.

An item is a JSON object (a PlateEvent as JSON, ``plate_image`` base64), a JSON string (one
base64 Avro message in the Confluent wire format), or bytes (one such message, or a multipart
event's image already attached as ``plate_image``). JSON objects must match the PlateEvent
schema (version 2) as Avro would, so what is accepted as JSON could have come as Avro.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import fastavro
from fastavro.validation import ValidationError, validate

from alpr_core.errors import RejectedEvent, RejectReason, TransientError
from alpr_core.events.avro import DecodedEvent, EventDecoder, schema_text
from alpr_core.events.parse import EventLimits, parse_event

_NAMESPACE = "com.alpr.events."


@dataclass(frozen=True, slots=True)
class TooDeepItem:
    """A posted JSON item nested past ``max_depth``: not built by the body parser, rejected."""

    max_depth: int


def decode_item(
    item: Any, decoder: EventDecoder, limits: EventLimits, now: datetime
) -> DecodedEvent:
    """The item as a validated event, or :class:`RejectedEvent` (``internal_error`` for an
    exception nobody foresaw); registry outages are :class:`~alpr_core.errors.TransientError`."""
    try:
        schema_id, record = item_record(item, decoder)
        return DecodedEvent(parse_event(record, limits, now), schema_id)
    except (RejectedEvent, TransientError):
        raise
    except Exception as error:
        raise RejectedEvent.unforeseen(error) from error


def item_record(item: Any, decoder: EventDecoder) -> tuple[int | None, Mapping[str, Any]]:
    """The item as a PlateEvent record, with its writer schema id (None for JSON)."""
    if isinstance(item, TooDeepItem):
        detail = f"the item is nested deeper than {item.max_depth} levels"
        raise RejectedEvent(RejectReason.TOO_DEEP, detail)
    if isinstance(item, dict):
        return None, json_record(item)
    if isinstance(item, str):
        item = _base64(item, RejectReason.UNDECODABLE, "item")
    if isinstance(item, bytes) and item:
        return decoder.decode_record(item)
    raise RejectedEvent(
        RejectReason.UNDECODABLE, "an item must be an event object or a base64 Avro message"
    )


def json_record(event: dict[str, Any]) -> dict[str, Any]:
    """A JSON event checked against the PlateEvent schema, its base64 image decoded."""
    record = dict(event)
    if isinstance(record.get("plate_image"), str):
        record["plate_image"] = _base64(
            record["plate_image"], RejectReason.INVALID_IMAGE, "plate_image"
        )
    try:
        validate(record, _plate_event_schema(), raise_errors=True)
    except ValidationError as error:
        raise RejectedEvent(_reason(error), _schema_detail(error)) from error
    return record


def event_id_hint(item: Any) -> str | None:
    """The item's event_id when a JSON item states one as printable text, for the report."""
    value = item.get("event_id") if isinstance(item, dict) else None
    return value if isinstance(value, str) and len(value) <= 64 and value.isprintable() else None


@cache
def _plate_event_schema() -> Any:
    return fastavro.parse_schema(json.loads(schema_text(2)))


def _base64(text: str, reason: RejectReason, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise RejectedEvent(reason, f"{what} is not valid base64") from error


def _schema_detail(error: ValidationError) -> str:
    """Which fields are wrong and what the schema expects there, without echoing values."""
    expected: dict[str, list[str]] = {}
    for data in error.errors:
        expected.setdefault(_strip(data.field), []).append(_type_name(data.schema))
    problems = [
        f"{field} must be {' or '.join(dict.fromkeys(types))}" for field, types in expected.items()
    ]
    return "; ".join(problems) or "the event does not match the PlateEvent schema"


def _type_name(schema: Any) -> str:
    if isinstance(schema, dict):
        return _strip(str(schema.get("name", schema.get("type", "record"))))
    if isinstance(schema, list):
        return " or ".join(_type_name(branch) for branch in schema)
    return _strip(str(schema))


def _strip(name: str) -> str:
    return name.removeprefix(_NAMESPACE)


def _reason(error: ValidationError) -> RejectReason:
    missing = any(data.datum is None for data in error.errors)
    return RejectReason.MISSING_FIELD if missing else RejectReason.INVALID_FIELD
