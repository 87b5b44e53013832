"""Every failure of one posted item is that item's rejection, whatever raised it."""

from __future__ import annotations

import base64
from typing import Any, cast

import pytest

import alpr_core.ingest.items
from alpr_core.errors import RejectedEvent, RejectReason
from alpr_core.events.avro import EventDecoder
from alpr_core.ingest.items import TooDeepItem, decode_item, event_id_hint
from tests.unit.events.frames import png_header
from tests.unit.factories import LIMITS, NOW, record

NO_DECODER = cast(EventDecoder, None)


def _rejected(item: Any) -> RejectedEvent:
    with pytest.raises(RejectedEvent) as rejected:
        decode_item(item, NO_DECODER, LIMITS, NOW)
    return rejected.value


def _deep_json(depth: int) -> Any:
    """A JSON item with an unknown field ``depth`` levels deep, as a JSON parser builds it."""
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return record(deep=value)


def test_an_unforeseen_exception_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise LookupError

    monkeypatch.setattr(alpr_core.ingest.items, "parse_event", broken)
    rejected = _rejected(record())
    assert (rejected.reason, rejected.cause) == (RejectReason.INTERNAL_ERROR, "LookupError")


def test_an_item_the_body_parser_found_too_deep_is_too_deep() -> None:
    assert _rejected(TooDeepItem(18)).reason == RejectReason.TOO_DEEP


@pytest.mark.parametrize("depth", [254, 500, 990])
def test_a_json_item_with_a_deep_unknown_field_is_too_deep(depth: int) -> None:
    assert _rejected(_deep_json(depth)).reason == RejectReason.TOO_DEEP


def test_a_bomb_image_in_a_json_item_is_too_large() -> None:
    item = record(plate_image=base64.b64encode(png_header(20_000, 20_000)).decode())
    assert _rejected(item).reason == RejectReason.IMAGE_TOO_LARGE


@pytest.mark.parametrize(
    ("item", "field"),
    [
        pytest.param(record(vehicle={**record()["vehicle"], "make": "F\x00"}), "make", id="make"),
        pytest.param(
            record(images={**record()["images"], "plate_url": "s3://\x00"}), "plate_url", id="url"
        ),
        pytest.param(record(lane={"a": "\x00"}), "lane", id="unknown field"),
    ],
)
def test_a_nul_in_a_json_item_is_an_invalid_field(item: dict[str, Any], field: str) -> None:
    rejected = _rejected(item)
    assert (rejected.reason, field in rejected.detail) == (RejectReason.INVALID_FIELD, True)


@pytest.mark.parametrize("event_id", ["a\x00b", "\ud800", "a\nb"])
def test_the_event_id_hint_is_never_unprintable(event_id: str) -> None:
    assert event_id_hint({"event_id": event_id}) is None
