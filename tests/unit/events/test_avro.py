from __future__ import annotations

from typing import Any, cast

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

import alpr_core.events.avro
from alpr_core.errors import RejectedEvent, RejectReason, TransientError
from alpr_core.events.avro import MAX_SCHEMA_DEPTH, EventDecoder, schema_text
from alpr_core.events.parse import MAX_UNKNOWN_DEPTH
from tests.unit.events.frames import (
    FailingRegistry,
    decoder,
    frame,
    nested_arrays,
    png_header,
    v2_with_field,
)
from tests.unit.factories import LIMITS, NOW, image_bytes, record


def _v2(**changes: Any) -> dict[str, Any]:
    return record(**{"plate_image": None, **changes})


def _rejected(decode: EventDecoder, message: bytes) -> RejectedEvent:
    with pytest.raises(RejectedEvent) as rejected:
        decode.decode(message, NOW)
    return rejected.value


def test_a_v2_message_decodes_with_its_image() -> None:
    decode, ids = decoder()
    decoded = decode.decode(frame(ids[1], schema_text(2), _v2(plate_image=image_bytes())), NOW)
    assert decoded.schema_id == ids[1]
    assert decoded.event.plate_image is not None


def test_a_bomb_image_in_an_avro_message_rejects_that_message() -> None:
    decode, ids = decoder()
    bomb = frame(ids[1], schema_text(2), _v2(plate_image=png_header(20_000, 20_000)))
    assert _rejected(decode, bomb).reason == RejectReason.IMAGE_TOO_LARGE


def test_a_nul_in_vehicle_make_rejects_the_message() -> None:
    decode, ids = decoder()
    sent = _v2(vehicle={"type": None, "make": "Fo\x00rd", "model": None, "color": None})
    rejected = _rejected(decode, frame(ids[1], schema_text(2), sent))
    assert (rejected.reason, "make" in rejected.detail) == (RejectReason.INVALID_FIELD, True)


def test_an_unknown_field_past_the_depth_cap_is_too_deep() -> None:
    schema = v2_with_field("deep", nested_arrays(MAX_UNKNOWN_DEPTH + 1), [])
    decode, ids = decoder(schema)
    value: Any = [1]
    for _ in range(MAX_UNKNOWN_DEPTH):
        value = [value]
    rejected = _rejected(decode, frame(ids[2], schema, _v2(deep=value)))
    assert rejected.reason == RejectReason.TOO_DEEP


@pytest.mark.parametrize("depth", [MAX_SCHEMA_DEPTH, 254, 500])
def test_a_writer_schema_nested_past_the_cap_is_too_deep(depth: int) -> None:
    schema = v2_with_field("deep", nested_arrays(depth), [])
    decode, ids = decoder(schema)
    rejected = _rejected(decode, frame(ids[2], schema, _v2(deep=[])))
    assert rejected.reason == RejectReason.TOO_DEEP


def test_a_recursive_writer_schema_is_refused_before_reading() -> None:
    """fastavro reads nesting by C recursion: 5000 levels of this message crash the process."""
    node = {
        "type": "record",
        "name": "Link",
        "fields": [{"name": "next", "type": ["null", "Link"]}],
    }
    schema = v2_with_field("chain", ["null", node])
    decode, ids = decoder(schema)
    header = frame(ids[2], schema, _v2(chain=None))[:-1]  # all but the chain's null branch
    message = header + b"\x02" * 5_001 + b"\x00"
    rejected = _rejected(decode, message)
    assert (rejected.reason, rejected.detail) == (
        RejectReason.TOO_DEEP,
        "the writer schema is recursive",
    )


def test_an_unforeseen_exception_rejects_only_that_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any) -> Any:
        raise ZeroDivisionError

    decode, ids = decoder()
    monkeypatch.setattr(alpr_core.events.avro, "parse_event", broken)
    rejected = _rejected(decode, frame(ids[1], schema_text(2), _v2()))
    assert (rejected.reason, rejected.cause) == (RejectReason.INTERNAL_ERROR, "ZeroDivisionError")


def test_a_registry_outage_stays_transient() -> None:
    decode = EventDecoder(cast(SchemaRegistryClient, FailingRegistry()), LIMITS)
    with pytest.raises(TransientError):
        decode.decode(frame(1, schema_text(2), _v2()), NOW)


@pytest.mark.parametrize("message", [b"", None, b"\x00", b"\x00\x00\x00\x00\x01"])
def test_empty_or_cut_messages_are_undecodable(message: bytes | None) -> None:
    decode, _ = decoder()
    with pytest.raises(RejectedEvent) as rejected:
        decode.decode(message, NOW)
    assert rejected.value.reason == RejectReason.UNDECODABLE
