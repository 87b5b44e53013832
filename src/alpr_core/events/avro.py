"""Decode Confluent-framed Avro with the writer's schema from the registry.

Decoding uses the writer's schema, not a reader schema, so that fields added by newer producers
reach :func:`~alpr_core.events.parse.parse_event` and are kept; parse_event then applies this
reader's defaults for fields an older writer did not send.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Any

from confluent_kafka.schema_registry import SchemaRegistryClient, SchemaRegistryError
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.common._httpx_compat import httpx
from confluent_kafka.serialization import SerializationError

from alpr_core.errors import RejectedEvent, RejectReason, TransientError
from alpr_core.events.model import PlateEvent
from alpr_core.events.parse import EventLimits, parse_event

SCHEMA_VERSIONS = (1, 2)
_DECODE_ERRORS = (
    SerializationError,
    EOFError,
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    UnicodeDecodeError,
    OverflowError,
    struct.error,
)


def schema_text(version: int) -> str:
    """The ``.avsc`` of a PlateEvent schema version shipped with this package."""
    return (files("alpr_core.events") / "schemas" / f"plate_event_v{version}.avsc").read_text()


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    event: PlateEvent
    schema_id: int


class EventDecoder:
    """bytes → :class:`DecodedEvent`, raising :class:`RejectedEvent` or :class:`TransientError`."""

    def __init__(self, registry: SchemaRegistryClient, limits: EventLimits) -> None:
        self._deserializer = AvroDeserializer(registry)
        self._limits = limits

    def decode(self, value: bytes | None, now: datetime) -> DecodedEvent:
        if not value:
            raise RejectedEvent(RejectReason.UNDECODABLE, "empty message")
        record = self._record(value)
        schema_id = int.from_bytes(value[1:5], "big")
        return DecodedEvent(parse_event(record, self._limits, now), schema_id)

    def _record(self, value: bytes) -> Mapping[str, Any]:
        try:
            record = self._deserializer(value, None)
        except SchemaRegistryError as error:
            if error.http_status_code == 404:
                raise RejectedEvent(RejectReason.UNKNOWN_SCHEMA, str(error)) from error
            raise TransientError(f"schema registry: {error}") from error
        except httpx.TransportError as error:
            raise TransientError(f"schema registry unreachable: {error}") from error
        except _DECODE_ERRORS as error:
            raise RejectedEvent(
                RejectReason.UNDECODABLE, f"{type(error).__name__}: {error}"
            ) from error
        if not isinstance(record, Mapping):
            raise RejectedEvent(RejectReason.UNDECODABLE, "the writer schema is not a record")
        return record
