"""Property: decoding any message or posted item returns an event or raises RejectedEvent,
nothing else (TransientError only when the registry fails), and what it accepts PostgreSQL can
store: JSON that serializes, text without NUL or lone surrogates.

The suite runs a fixed set of examples; for many more:
``HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/unit -k properties``.
"""

from __future__ import annotations

import struct
from dataclasses import astuple
from functools import cache
from typing import Any, cast
from unittest.mock import patch

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import to_json

import alpr_core.events.avro
import alpr_core.ingest.items
from alpr_core.errors import RejectedEvent, TransientError
from alpr_core.events.avro import DecodedEvent, EventDecoder
from alpr_core.ingest.items import decode_item
from tests.unit.events.frames import FailingRegistry, decoder, frame, v2_with_field
from tests.unit.events.strategies import (
    TEXT,
    avro_values,
    json_values,
    mutated,
    near_valid_records,
    schema,
)
from tests.unit.factories import LIMITS, NOW, record

# A newer writer's schema: version 2 plus an unknown field of nested arrays, maps and unions.
_NESTED: Any = "string"
for _kind in ("array", "map", "array", "map"):
    _NESTED = [
        "null",
        "long",
        "bytes",
        {"type": _kind, "items" if _kind == "array" else "values": _NESTED},
    ]
NEWER = v2_with_field("newer", _NESTED)


@cache
def _decoder() -> tuple[EventDecoder, list[int]]:
    return decoder(NEWER)


def _decode(message: bytes) -> DecodedEvent | RejectedEvent:
    try:
        return _decoder()[0].decode(message, NOW)
    except RejectedEvent as rejected:
        return rejected


def _check_storable(decoded: DecodedEvent | RejectedEvent) -> None:
    if isinstance(decoded, RejectedEvent):
        return
    event = decoded.event
    to_json(event.unknown_fields)
    to_json(event.extras)
    texts = [
        event.camera_id,
        event.track_id,
        event.plate_text,
        event.region,
        event.site,
        event.host,
        *astuple(event.vehicle),
        *astuple(event.images),
    ]
    for text in (t for t in texts if t is not None):
        assert "\x00" not in text
        text.encode("utf-8")


def _framed(version: int) -> st.SearchStrategy[bytes]:
    def build(value: dict[str, Any]) -> bytes:
        schema_id = _decoder()[1][version - 1]
        return frame(schema_id, NEWER if version == 3 else schema(version), value)

    records = near_valid_records(min(version, 2))
    if version == 3:
        records = st.builds(lambda r, n: {**r, "newer": n}, records, avro_values(_NESTED))
    return records.map(build)


@given(st.binary(max_size=512))
def test_any_bytes_decode_or_are_rejected(message: bytes) -> None:
    _check_storable(_decode(message))


@given(st.sampled_from([1, 2, 3, 99]), st.binary(max_size=512))
def test_any_payload_behind_a_schema_id_decodes_or_is_rejected(
    schema_id: int, payload: bytes
) -> None:
    _check_storable(_decode(b"\x00" + struct.pack(">I", schema_id) + payload))


_FRAMES = st.one_of(_framed(1), _framed(2), _framed(3))


@given(_FRAMES)
def test_random_records_of_each_schema_decode_or_are_rejected(message: bytes) -> None:
    _check_storable(_decode(message))


@given(_FRAMES.flatmap(mutated))
def test_mutated_frames_decode_or_are_rejected(message: bytes) -> None:
    _check_storable(_decode(message))


@given(st.integers(0, 2**32 - 1), st.binary(max_size=256))
def test_a_failing_registry_is_transient_for_any_framed_message(
    schema_id: int, payload: bytes
) -> None:
    failing = EventDecoder(cast(SchemaRegistryClient, FailingRegistry()), LIMITS)
    with pytest.raises(TransientError):
        failing.decode(b"\x00" + struct.pack(">I", schema_id) + payload, NOW)


_UNFORESEEN = st.sampled_from(
    [
        ZeroDivisionError,
        LookupError,
        AttributeError,
        RecursionError,
        MemoryError,
        OSError,
        NotImplementedError,
        AssertionError,
        UnicodeError,
        ArithmeticError,
    ]
)


@given(_UNFORESEEN, st.sampled_from(["avro", "item"]))
def test_any_unforeseen_exception_is_an_internal_error_of_that_event(
    error: type[Exception], path: str
) -> None:
    def broken(*args: Any) -> Any:
        raise error

    decode, ids = _decoder()
    module = alpr_core.events.avro if path == "avro" else alpr_core.ingest.items
    message = frame(ids[1], schema(2), record())

    def run() -> Any:
        if path == "avro":
            return decode.decode(message, NOW)
        return decode_item(record(), decode, LIMITS, NOW)

    with patch.object(module, "parse_event", broken), pytest.raises(RejectedEvent) as rejected:
        run()
    assert (rejected.value.reason, rejected.value.cause) == ("internal_error", error.__qualname__)


def _json_items() -> st.SearchStrategy[Any]:
    near = near_valid_records(1).map(lambda r: {**r, "captured_at": str(r["captured_at"])})
    with_unknown = st.builds(lambda r, k, v: {**r, k: v}, near, TEXT, json_values())
    return st.one_of(near, with_unknown, json_values(), st.dictionaries(TEXT, json_values()))


@given(_json_items())
def test_any_json_item_decodes_or_is_rejected(item: Any) -> None:
    try:
        decoded: DecodedEvent | RejectedEvent = decode_item(item, _decoder()[0], LIMITS, NOW)
    except RejectedEvent as rejected:
        decoded = rejected
    _check_storable(decoded)


def test_a_valid_record_is_accepted() -> None:
    """The strategies start from this record: were it rejected, they would prove little."""
    assert isinstance(
        _decode(frame(_decoder()[1][1], schema(2), {**record(), "plate_image": None})), DecodedEvent
    )
