"""Decode Confluent-framed Avro with the writer's schema from the registry.

Decoding uses the writer's schema, not a reader schema, so that fields added by newer producers
reach :func:`~alpr_core.events.parse.parse_event` and are kept; parse_event then applies this
reader's defaults for fields an older writer did not send.

The framing is read by confluent-kafka (``prefix_schema_id_deserializer``: magic byte 0 with a
schema id, or 1 with a GUID), the writer schema comes from its registry client (cached), and
fastavro decodes. Confluent's ``AvroDeserializer`` does the same plus per-message rule and
migration machinery we do not use, at a higher cost per event (docs/decisions.md#decoding);
it remains the path for writer schemas with references.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Any
from uuid import UUID

import fastavro
from confluent_kafka.schema_registry import (
    SchemaRegistryClient,
    SchemaRegistryError,
    prefix_schema_id_deserializer,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.common._httpx_compat import httpx
from confluent_kafka.schema_registry.serde import SchemaId
from confluent_kafka.serialization import SerializationError

from alpr_core.errors import RejectedEvent, RejectReason, TransientError
from alpr_core.events.model import PlateEvent
from alpr_core.events.parse import EventLimits, parse_event

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
    fastavro.read.SchemaResolutionError,
)
_WITH_REFERENCES = object()
# fastavro reads nested values by recursion in C: a writer schema that nests without bound (a
# recursive type) lets one small message overflow the stack, so such schemas are refused.
MAX_SCHEMA_DEPTH = 32
MAX_SCHEMA_NODES = 10_000


def schema_text(version: int) -> str:
    """The ``.avsc`` of a PlateEvent schema version shipped with this package."""
    return (files("alpr_core.events") / "schemas" / f"plate_event_v{version}.avsc").read_text()


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    event: PlateEvent
    schema_id: int | None


class EventDecoder:
    """bytes → :class:`DecodedEvent`, raising :class:`RejectedEvent` or :class:`TransientError`."""

    def __init__(self, registry: SchemaRegistryClient | None, limits: EventLimits) -> None:
        """Without a registry (no ``SCHEMA_REGISTRY_URL``: HTTP ingest of JSON only), every Avro
        message is rejected as of an unknown schema."""
        self._registry = registry
        self._limits = limits
        self._writer_schemas: dict[int | UUID, Any] = {}
        self._fallback = AvroDeserializer(registry) if registry else None

    def decode(self, value: bytes | None, now: datetime) -> DecodedEvent:
        """Any exception but a transient one rejects this message alone: an unforeseen one is
        ``internal_error``, named by its class."""
        try:
            return self._decode(value, now)
        except (RejectedEvent, TransientError):
            raise
        except Exception as error:
            raise RejectedEvent.unforeseen(error) from error

    def _decode(self, value: bytes | None, now: datetime) -> DecodedEvent:
        if not value:
            raise RejectedEvent(RejectReason.UNDECODABLE, "empty message")
        schema_id, record = self.decode_record(value)
        return DecodedEvent(parse_event(record, self._limits, now), schema_id)

    def decode_record(self, value: bytes) -> tuple[int | None, Mapping[str, Any]]:
        """The Avro record as the writer wrote it, and the writer's schema id."""
        try:
            schema_id = SchemaId("AVRO")
            payload = prefix_schema_id_deserializer(value, None, schema_id)
            writer = self._writer_schema(schema_id)
            if writer is _WITH_REFERENCES and self._fallback is not None:
                record = self._fallback(value, None)
            else:
                record = fastavro.schemaless_reader(payload, writer, None)
        except _DECODE_ERRORS as error:
            detail = f"{type(error).__name__}: {error}"
            raise RejectedEvent(RejectReason.UNDECODABLE, detail) from error
        if not isinstance(record, Mapping):
            raise RejectedEvent(RejectReason.UNDECODABLE, "the writer schema is not a record")
        return schema_id.id, record

    def _writer_schema(self, schema_id: SchemaId) -> Any:
        key = schema_id.id if schema_id.id is not None else schema_id.guid
        if key is None:
            raise SerializationError("no schema id in the framing")
        if key not in self._writer_schemas:
            self._writer_schemas[key] = self._fetch(schema_id)
        return self._writer_schemas[key]

    def _fetch(self, schema_id: SchemaId) -> Any:
        if self._registry is None:
            raise RejectedEvent(
                RejectReason.UNKNOWN_SCHEMA, "no schema registry is configured; post JSON instead"
            )
        try:
            if schema_id.id is not None:
                schema = self._registry.get_schema(schema_id.id)
            else:
                schema = self._registry.get_schema_by_guid(str(schema_id.guid))
        except SchemaRegistryError as error:
            if error.http_status_code == 404:
                raise RejectedEvent(RejectReason.UNKNOWN_SCHEMA, str(error)) from error
            raise TransientError(f"schema registry: {error}") from error
        except httpx.TransportError as error:
            raise TransientError(f"schema registry unreachable: {error}") from error
        if schema.references:
            return _WITH_REFERENCES
        parsed = fastavro.parse_schema(json.loads(schema.schema_str or ""))
        check_schema_nesting(parsed)
        return parsed


def check_schema_nesting(parsed: Any) -> None:
    """Refuse a parsed schema that is recursive, nested past :data:`MAX_SCHEMA_DEPTH`, or that
    expands to more than :data:`MAX_SCHEMA_NODES` types; walked with an explicit stack."""
    named: Mapping[str, Any] = parsed.get("__named_schemas", {}) if isinstance(parsed, dict) else {}
    pending: list[tuple[Any, int, frozenset[str]]] = [(parsed, 1, frozenset())]
    visited = 0
    while pending:
        schema, depth, enclosing = pending.pop()
        visited += 1
        if depth > MAX_SCHEMA_DEPTH or visited > MAX_SCHEMA_NODES:
            raise RejectedEvent(RejectReason.TOO_DEEP, "the writer schema nests too deep")
        if isinstance(schema, str) and schema in named:
            if schema in enclosing:
                raise RejectedEvent(RejectReason.TOO_DEEP, "the writer schema is recursive")
            pending.append((named[schema], depth, enclosing | {schema}))
        elif isinstance(schema, list):
            pending.extend((branch, depth, enclosing) for branch in schema)
        elif isinstance(schema, dict):
            name = schema.get("name")
            inner = enclosing | {name} if isinstance(name, str) else enclosing
            pending.extend((child, depth + 1, inner) for child in _children(schema))


def _children(schema: dict[str, Any]) -> list[Any]:
    kind = schema.get("type")
    if kind in ("record", "error"):
        return [field.get("type") for field in schema.get("fields", [])]
    if kind == "array":
        return [schema.get("items")]
    if kind == "map":
        return [schema.get("values")]
    return [kind] if isinstance(kind, dict | list | str) else []
