from __future__ import annotations

import base64
from typing import Any, cast
from uuid import UUID

import pytest

from alpr_core.db.api_keys import ApiKey
from alpr_core.errors import RejectedEvent, RejectReason
from alpr_core.events.avro import DecodedEvent, EventDecoder
from alpr_core.events.parse import parse_event
from alpr_core.ingest.items import decode_item, event_id_hint, json_record
from alpr_core.ingest.service import check_scope
from tests.unit.factories import LIMITS, NOW, image_bytes, record

# JSON items and malformed Avro items never reach the registry.
NO_DECODER = cast(EventDecoder, None)


def test_a_json_event_is_parsed_like_an_avro_record() -> None:
    decoded = decode_item(record(), NO_DECODER, LIMITS, NOW)
    assert decoded.event == parse_event(record(), LIMITS, NOW)
    assert decoded.schema_id is None


def test_a_base64_image_becomes_the_inline_image() -> None:
    png = image_bytes("PNG")
    decoded = decode_item(
        record(plate_image=base64.b64encode(png).decode()), NO_DECODER, LIMITS, NOW
    )
    assert decoded.event.plate_image is not None
    assert decoded.event.plate_image.data == png
    assert decoded.event.plate_image.content_type == "image/png"


def test_fields_this_reader_does_not_know_are_kept() -> None:
    decoded = decode_item(record(lane=2), NO_DECODER, LIMITS, NOW)
    assert decoded.event.unknown_fields == {"lane": 2}


def _without(name: str) -> dict[str, Any]:
    result = record()
    del result[name]
    return result


@pytest.mark.parametrize(
    ("item", "reason", "detail"),
    [
        pytest.param(
            _without("node"),
            RejectReason.MISSING_FIELD,
            "PlateEvent.node must be Node",
            id="a section the schema requires",
        ),
        pytest.param(
            record(track_id=17),
            RejectReason.INVALID_FIELD,
            "PlateEvent.track_id must be string",
            id="a number for a string",
        ),
        pytest.param(
            record(latency_ms=True),
            RejectReason.INVALID_FIELD,
            "PlateEvent.latency_ms must be int",
            id="a bool for an int",
        ),
        pytest.param(
            record(extras={"roi": 3}),
            RejectReason.INVALID_FIELD,
            "PlateEvent.extras must be null; Extras.roi must be null or string",
            id="a nested field",
        ),
        pytest.param(
            record(plate_image="not base64!"),
            RejectReason.INVALID_IMAGE,
            "plate_image is not valid base64",
            id="an image that is not base64",
        ),
    ],
)
def test_json_events_must_match_the_schema(item: Any, reason: RejectReason, detail: str) -> None:
    with pytest.raises(RejectedEvent) as rejected:
        json_record(item)
    assert (rejected.value.reason, rejected.value.detail) == (reason, detail)


def test_the_schema_error_does_not_echo_the_value() -> None:
    with pytest.raises(RejectedEvent) as rejected:
        json_record(record(plate={"text": ["SECRET1"], "normalized_text": "S", "confidence": 1}))
    assert "SECRET1" not in str(rejected.value)


def test_parse_event_still_judges_what_the_schema_allows() -> None:
    with pytest.raises(RejectedEvent) as rejected:
        decode_item(record(event_id="not-a-uuid"), NO_DECODER, LIMITS, NOW)
    assert rejected.value.reason == RejectReason.INVALID_EVENT_ID


@pytest.mark.parametrize("item", [42, None, [record()], b"", "", "%%%"], ids=repr)
def test_items_that_are_neither_an_event_nor_avro(item: Any) -> None:
    with pytest.raises(RejectedEvent) as rejected:
        decode_item(item, NO_DECODER, LIMITS, NOW)
    assert rejected.value.reason == RejectReason.UNDECODABLE


def test_the_event_id_hint_is_only_ever_short_text() -> None:
    assert event_id_hint(record()) == record()["event_id"]
    assert event_id_hint({"event_id": 5}) is None
    assert event_id_hint({"event_id": "x" * 65}) is None
    assert event_id_hint("QUJD") is None


def _key(cameras: list[str] | None = None, sites: list[str] | None = None) -> ApiKey:
    return ApiKey(UUID(int=1), "cam", "ingest", sites, cameras, NOW, None)


@pytest.mark.parametrize(
    ("key", "allowed"),
    [
        pytest.param(_key(), True, id="no scope"),
        pytest.param(_key(cameras=["cam-001"]), True, id="its camera"),
        pytest.param(_key(cameras=["cam-002"]), False, id="another camera"),
        pytest.param(_key(sites=["site-1"]), True, id="its site"),
        pytest.param(_key(sites=["site-2"]), False, id="another site"),
    ],
)
def test_a_scoped_key_posts_only_for_its_cameras_and_sites(key: ApiKey, allowed: bool) -> None:
    decoded = DecodedEvent(parse_event(record(), LIMITS, NOW), None)
    if allowed:
        check_scope(decoded, key)
        return
    with pytest.raises(RejectedEvent) as rejected:
        check_scope(decoded, key)
    assert rejected.value.reason == RejectReason.OUT_OF_SCOPE
