"""Confluent-framed Avro messages, a schema registry in memory, and crafted images."""

from __future__ import annotations

import copy
import io
import json
import struct
import zlib
from typing import Any

import fastavro
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, SchemaRegistryError

from alpr_core.events.avro import EventDecoder, schema_text
from tests.unit.factories import LIMITS


def registry(*extra_schemas: dict[str, Any]) -> tuple[SchemaRegistryClient, list[int]]:
    """confluent-kafka's in-memory registry holding versions 1 and 2, then ``extra_schemas``;
    with the ids it gave each, in that order."""
    client = SchemaRegistryClient.new_client({"url": "mock://alpr-tests"})
    texts = [schema_text(1), schema_text(2), *(json.dumps(s) for s in extra_schemas)]
    ids = [client.register_schema(f"s{i}", Schema(text, "AVRO")) for i, text in enumerate(texts)]
    return client, ids


def decoder(*extra_schemas: dict[str, Any]) -> tuple[EventDecoder, list[int]]:
    client, ids = registry(*extra_schemas)
    return EventDecoder(client, LIMITS), ids


def frame(schema_id: int, schema: dict[str, Any] | str, value: dict[str, Any]) -> bytes:
    """Magic byte 0, the 4-byte schema id, then ``value`` written with ``schema``."""
    parsed = fastavro.parse_schema(json.loads(schema) if isinstance(schema, str) else schema)
    out = io.BytesIO()
    out.write(b"\x00" + struct.pack(">I", schema_id))
    fastavro.schemaless_writer(out, parsed, value)
    return out.getvalue()


def v2_with_field(name: str, field_type: Any, default: Any = None) -> dict[str, Any]:
    """Version 2 of the schema plus one field a newer writer added."""
    schema: dict[str, Any] = copy.deepcopy(json.loads(schema_text(2)))
    schema["fields"].append({"name": name, "type": field_type, "default": default})
    return schema


def nested_arrays(depth: int) -> dict[str, Any] | str:
    """An Avro type of ``depth`` nested arrays of ints."""
    field_type: dict[str, Any] | str = "int"
    for _ in range(depth):
        field_type = {"type": "array", "items": field_type}
    return field_type


class FailingRegistry:
    """A registry that answers every look-up with a server error (a transient failure)."""

    def get_schema(self, schema_id: int) -> Any:
        raise SchemaRegistryError(503, 50301, "unavailable")

    def get_schema_by_guid(self, guid: str) -> Any:
        raise SchemaRegistryError(503, 50301, "unavailable")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header(width: int, height: int, bit_depth: int = 8, color_type: int = 2) -> bytes:
    """A PNG whose IHDR (valid CRC) claims ``width`` x ``height``, with almost no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    idat = zlib.compress(b"")
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )
