from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from alpr_core.errors import RejectedEvent, RejectReason
from alpr_core.events.parse import (
    MAX_UNKNOWN_CHARS,
    MAX_UNKNOWN_DEPTH,
    MAX_UNKNOWN_NODES,
    normalize_plate,
    parse_event,
)
from tests.unit.factories import LIMITS, NOW, image_bytes, record


def test_a_valid_record_becomes_an_event() -> None:
    event = parse_event(record(), LIMITS, NOW)

    assert event.event_id == "0b7c4f8e-3c1a-4d6b-9a55-1f0e2d3c4b5a"
    assert event.captured_at == datetime(2026, 11, 28, 11, 59, 58, 123000, tzinfo=UTC)
    assert (event.plate_text, event.plate_normalized) == ("AB12 CDE", "AB12CDE")
    assert event.confidence == pytest.approx(0.93)
    assert event.vehicle.make == "Ford"
    assert event.images.plate_url == "s3://alpr-plate-images/edge/cam-001/x.jpg"
    assert (event.site, event.host, event.latency_ms) == ("site-1", "edge-001", 42)
    assert event.extras == {
        "direction": "in",
        "frame_number": 3,
        "quality_score": 0.8,
        "roi": "lane-1",
    }
    assert event.plate_image is None
    assert event.unknown_fields == {}


def test_a_time_without_zone_means_utc() -> None:
    event = parse_event(record(captured_at="2026-11-28T10:00:00"), LIMITS, NOW)
    assert event.captured_at == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def test_a_time_with_any_offset_python_accepts_is_kept_in_utc() -> None:
    """+16:00 is past what PostgreSQL accepts in a time's text; the event carries UTC."""
    event = parse_event(record(captured_at="2026-11-28T20:00:00+16:00"), LIMITS, NOW)
    assert event.captured_at == datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
    assert event.captured_at.tzinfo is UTC


def test_fields_an_older_writer_lacks_take_the_defaults() -> None:
    old = record()
    del old["latency_ms"], old["extras"]
    event = parse_event(old, LIMITS, NOW)
    assert (event.latency_ms, event.extras) == (0, None)


def test_fields_this_reader_does_not_know_are_kept() -> None:
    newer = record(lane_count=3, thumbnail=b"\x01\x02")
    newer["plate"] = {**newer["plate"], "country": "GB"}
    event = parse_event(newer, LIMITS, NOW)
    assert event.unknown_fields == {
        "lane_count": 3,
        "thumbnail": {"base64": "AQI="},
        "plate.country": "GB",
    }


def test_an_inline_jpeg_is_accepted_with_its_type() -> None:
    event = parse_event(record(plate_image=image_bytes("JPEG")), LIMITS, NOW)
    assert event.plate_image is not None
    assert (event.plate_image.content_type, event.plate_image.extension) == ("image/jpeg", "jpg")


def test_an_inline_png_is_accepted_with_its_type() -> None:
    event = parse_event(record(plate_image=image_bytes("PNG")), LIMITS, NOW)
    assert event.plate_image is not None
    assert event.plate_image.content_type == "image/png"


def _with_plate(**plate: Any) -> dict[str, Any]:
    base = record()
    return record(plate={**base["plate"], **plate})


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        pytest.param(record(event_id="not-a-uuid"), RejectReason.INVALID_EVENT_ID, id="event id"),
        pytest.param(
            record(event_id="0b7c4f8e3c1a4d6b9a551f0e2d3c4b5a"),
            RejectReason.INVALID_EVENT_ID,
            id="uuid without hyphens",
        ),
        pytest.param(record(captured_at="yesterday"), RejectReason.INVALID_TIMESTAMP, id="time"),
        pytest.param(
            record(captured_at="0001-01-01T00:00:00+01:00"),
            RejectReason.INVALID_TIMESTAMP,
            id="before year 1 in UTC",
        ),
        pytest.param(
            record(captured_at="2026-12-05T00:00:00Z"),
            RejectReason.TIMESTAMP_OUT_OF_RANGE,
            id="future time",
        ),
        pytest.param(
            record(captured_at="2020-01-01T00:00:00Z"),
            RejectReason.TIMESTAMP_OUT_OF_RANGE,
            id="older than retention",
        ),
        pytest.param(_with_plate(confidence=1.5), RejectReason.INVALID_CONFIDENCE, id="conf > 1"),
        pytest.param(_with_plate(confidence=-0.1), RejectReason.INVALID_CONFIDENCE, id="conf < 0"),
        pytest.param(
            _with_plate(confidence=float("nan")), RejectReason.INVALID_CONFIDENCE, id="conf NaN"
        ),
        pytest.param(_with_plate(text="   "), RejectReason.INVALID_PLATE_TEXT, id="blank plate"),
        pytest.param(_with_plate(text="X" * 21), RejectReason.INVALID_PLATE_TEXT, id="long plate"),
        pytest.param(
            _with_plate(text="--", normalized_text=""),
            RejectReason.INVALID_PLATE_TEXT,
            id="no alphanumerics",
        ),
        pytest.param(record(camera_id=""), RejectReason.INVALID_FIELD, id="empty camera"),
        pytest.param(record(camera_id="c" * 129), RejectReason.INVALID_FIELD, id="long camera"),
        pytest.param(record(latency_ms=-1), RejectReason.INVALID_FIELD, id="negative latency"),
        pytest.param(record(plate=None), RejectReason.MISSING_FIELD, id="no plate record"),
        pytest.param(record(plate_image=b"GIF89a..."), RejectReason.INVALID_IMAGE, id="gif"),
        pytest.param(
            record(plate_image=b"\xff\xd8\xff" + b"\x00" * 50),
            RejectReason.INVALID_IMAGE,
            id="jpeg signature, garbage body",
        ),
        pytest.param(
            record(plate_image=b"\xff\xd8\xff" + bytes(200_000)),
            RejectReason.IMAGE_TOO_LARGE,
            id="image over the cap",
        ),
    ],
)
def test_bad_records_are_rejected_with_their_reason(
    bad: dict[str, Any], reason: RejectReason
) -> None:
    with pytest.raises(RejectedEvent) as raised:
        parse_event(bad, LIMITS, NOW)
    assert raised.value.reason == reason


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        pytest.param("ab12 cde", "AB12CDE", id="case and space"),
        pytest.param("AB-123-CD", "AB123CD", id="dashes"),
        pytest.param("B·MW 1234", "BMW1234", id="other separators"),
    ],
)
def test_normalize_plate(text: str, normalized: str) -> None:
    assert normalize_plate(text) == normalized


def test_normalized_text_is_derived_when_the_edge_sends_none() -> None:
    event = parse_event(_with_plate(text="ab-12 cd", normalized_text=""), LIMITS, NOW)
    assert event.plate_normalized == "AB12CD"


def test_an_upper_case_uuid_is_stored_in_canonical_form() -> None:
    event = parse_event(record(event_id="0B7C4F8E-3C1A-4D6B-9A55-1F0E2D3C4B5A"), LIMITS, NOW)
    assert event.event_id == "0b7c4f8e-3c1a-4d6b-9a55-1f0e2d3c4b5a"


def _nested(depth: int) -> Any:
    """A value of ``depth`` nested containers: [[...[]...]]."""
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _rejected(bad: dict[str, Any]) -> RejectedEvent:
    with pytest.raises(RejectedEvent) as raised:
        parse_event(bad, LIMITS, NOW)
    return raised.value


def _section(name: str, **fields: Any) -> dict[str, Any]:
    base = record()
    return record(**{name: {**base[name], **fields}})


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        pytest.param(_section("vehicle", make="Fo\x00rd"), "make", id="vehicle.make"),
        pytest.param(_section("images", plate_url="s3://b/\x00.jpg"), "plate_url", id="plate_url"),
        pytest.param(record(camera_id="cam\x00"), "camera_id", id="camera_id"),
        pytest.param(_with_plate(text="AB\x0012"), "plate.text", id="plate text"),
        pytest.param(_section("node", site="\x00"), "site", id="site"),
        pytest.param(record(lane="a\x00b"), "lane", id="unknown field value"),
        pytest.param(record(lane={"k\x00": 1}), "lane", id="unknown field key"),
        pytest.param(record(lane=[{"a": ["\x00"]}]), "lane", id="deep in an unknown field"),
        pytest.param(record(**{"la\x00ne": 1}), "name of an unknown field", id="its name"),
        pytest.param(_section("vehicle", trim="\x00"), "vehicle.trim", id="unknown in a section"),
        pytest.param(_section("extras", roi="\x00"), "extras.roi", id="extras"),
    ],
)
def test_a_nul_character_is_refused_naming_the_field_not_the_value(
    bad: dict[str, Any], field: str
) -> None:
    rejected = _rejected(bad)
    assert rejected.reason == RejectReason.INVALID_FIELD
    assert field in rejected.detail
    assert "NUL" in rejected.detail


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(_section("vehicle", color="blue\ud800"), id="vehicle.color"),
        pytest.param(record(track_id="\udfff"), id="track_id"),
        pytest.param(record(lane={"\ud800": "x"}), id="unknown field key"),
        pytest.param(record(lane=["ok", "\udc00"]), id="unknown field value"),
    ],
)
def test_a_lone_surrogate_is_refused(bad: dict[str, Any]) -> None:
    rejected = _rejected(bad)
    assert rejected.reason == RejectReason.INVALID_FIELD
    assert "surrogate" in rejected.detail


def test_text_outside_ascii_is_kept() -> None:
    event = parse_event(_section("vehicle", make="Škoda 🚗"), LIMITS, NOW)
    assert event.vehicle.make == "Škoda 🚗"


def test_unknown_fields_up_to_the_depth_cap_are_kept() -> None:
    event = parse_event(record(deep=_nested(MAX_UNKNOWN_DEPTH)), LIMITS, NOW)
    assert event.unknown_fields == {"deep": _nested(MAX_UNKNOWN_DEPTH)}


@pytest.mark.parametrize("depth", [MAX_UNKNOWN_DEPTH + 1, 254, 500, 990, 100_000])
def test_unknown_fields_nested_past_the_cap_are_too_deep(depth: int) -> None:
    rejected = _rejected(record(deep=_nested(depth)))
    assert rejected.reason == RejectReason.TOO_DEEP
    assert "deep" in rejected.detail


def test_unknown_fields_past_the_node_cap_are_too_deep() -> None:
    rejected = _rejected(record(wide=list(range(MAX_UNKNOWN_NODES))))
    assert rejected.reason == RejectReason.TOO_DEEP


def test_unknown_fields_past_the_size_cap_are_too_deep() -> None:
    halves = {"a": "x" * (MAX_UNKNOWN_CHARS // 2), "b": b"y" * (MAX_UNKNOWN_CHARS // 2 + 1)}
    assert _rejected(record(**halves)).reason == RejectReason.TOO_DEEP


def test_extras_a_newer_writer_nests_are_capped_too() -> None:
    rejected = _rejected(_section("extras", roi=_nested(10_000)))
    assert rejected.reason == RejectReason.TOO_DEEP
    assert "extras.roi" in rejected.detail


def test_unknown_fields_become_json_postgresql_accepts() -> None:
    newer = record(blob=[b"\x01", float("inf"), {"n": None, "t": True}], when=NOW)
    event = parse_event(newer, LIMITS, NOW)
    assert event.unknown_fields == {
        "blob": [{"base64": "AQ=="}, "inf", {"n": None, "t": True}],
        "when": NOW,
    }
