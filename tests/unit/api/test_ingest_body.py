from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.datastructures import Headers

from alpr_core.api.ingest_body import check_media_type, json_items, multipart_item
from alpr_core.api.problems import Problem
from alpr_core.events.parse import MAX_RECORD_DEPTH
from alpr_core.ingest.items import TooDeepItem


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        pytest.param("application/json", "application/json", id="json"),
        pytest.param("Application/JSON; charset=utf-8", "application/json", id="json params"),
        pytest.param("avro/binary", "avro/binary", id="avro"),
        pytest.param("application/octet-stream", "application/octet-stream", id="octets"),
        pytest.param("multipart/form-data; boundary=x", "multipart/form-data", id="multipart"),
    ],
)
def test_accepted_media_types(header: str, kind: str) -> None:
    assert check_media_type(header) == kind


@pytest.mark.parametrize("header", ["text/plain", "application/xml", "", None])
def test_other_media_types_are_415(header: str | None) -> None:
    with pytest.raises(Problem) as refused:
        check_media_type(header)
    assert refused.value.status == 415
    assert refused.value.headers is not None
    assert "multipart/form-data" in refused.value.headers["Accept-Post"]


def test_an_object_is_one_item_and_an_array_its_items() -> None:
    assert json_items(b'{"a": 1}', 500) == [{"a": 1}]
    assert json_items(b'[{"a": 1}, "QUJD", 3]', 500) == [{"a": 1}, "QUJD", 3]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param(b"{", 400, id="truncated"),
        pytest.param(b"\xff", 400, id="not utf-8"),
        pytest.param(b"[" * 5000, 400, id="deep and truncated"),
        pytest.param(b"", 400, id="empty"),
        pytest.param(b"[1] x", 400, id="trailing garbage"),
        pytest.param(b"[NaN]", 400, id="NaN is not JSON"),
        pytest.param(b'"QUJD"', 422, id="a lone string"),
        pytest.param(b"[]", 422, id="empty array"),
        pytest.param(b"12", 422, id="number"),
        pytest.param(b"null", 422, id="null"),
    ],
)
def test_bodies_that_hold_no_events(body: bytes, status: int) -> None:
    with pytest.raises(Problem) as refused:
        json_items(body, 500)
    assert refused.value.status == status


def _form(*parts: tuple[str, str | None, bytes]) -> tuple[Headers, bytes]:
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--B\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return Headers({"content-type": "multipart/form-data; boundary=B"}), body + b"--B--\r\n"


def _item(headers: Headers, body: bytes) -> Any:
    return asyncio.run(multipart_item(headers, body))


def test_the_image_part_becomes_plate_image() -> None:
    event = {"event_id": "e", "plate": {"text": "X"}}
    item = _item(*_form(("event", None, json.dumps(event).encode()), ("image", "p.jpg", b"\xff")))
    assert item == {**event, "plate_image": b"\xff"}


def test_the_event_part_may_be_a_file_and_the_image_is_optional() -> None:
    assert _item(*_form(("event", "event.json", b'{"a": 1}'))) == {"a": 1}


@pytest.mark.parametrize(
    ("parts", "status"),
    [
        pytest.param([("image", "p.jpg", b"\xff")], 422, id="no event part"),
        pytest.param([("event", None, b"{")], 400, id="event not json"),
        pytest.param(
            [("event", None, b'{"plate_image": "QUJD"}'), ("image", "p.jpg", b"\xff")],
            422,
            id="two images",
        ),
        pytest.param([("event", None, b"{}")] * 3, 400, id="too many parts"),
    ],
)
def test_bad_multipart_bodies(parts: list[tuple[str, str | None, bytes]], status: int) -> None:
    with pytest.raises(Problem) as refused:
        _item(*_form(*parts))
    assert refused.value.status == status


def _nested(depth: int) -> bytes:
    """An object ``depth`` containers deep: {"a": {"a": ... {} ...}}."""
    return b'{"a": ' * (depth - 1) + b"{}" + b"}" * (depth - 1)


def test_an_array_over_the_cap_is_413_before_the_rest_is_read() -> None:
    """The garbage after the third item is never reached: the count is checked while parsing."""
    with pytest.raises(Problem) as refused:
        json_items(b'[{}, {}, {}, {"a": ' + b"!" * 100, 2)
    assert refused.value.status == 413
    assert refused.value.title == "Too many events"


def test_an_array_at_the_cap_is_accepted() -> None:
    assert json_items(b"[{}, {}]", 2) == [{}, {}]


def test_an_item_at_the_depth_cap_is_built() -> None:
    items = json_items(b"[" + _nested(MAX_RECORD_DEPTH) + b"]", 500)
    assert items == [json.loads(_nested(MAX_RECORD_DEPTH))]


@pytest.mark.parametrize("depth", [MAX_RECORD_DEPTH + 1, 254, 500, 990, 100_000])
def test_an_item_nested_too_deep_is_skipped_and_the_others_kept(depth: int) -> None:
    body = b'[{"n": 1}, ' + _nested(depth) + b', {"n": 2}]'
    assert json_items(body, 500) == [{"n": 1}, TooDeepItem(MAX_RECORD_DEPTH), {"n": 2}]


def test_a_single_object_nested_too_deep_is_one_too_deep_item() -> None:
    assert json_items(b"[" * 50_000 + b"]" * 50_000, 500) == [TooDeepItem(MAX_RECORD_DEPTH)]
    assert json_items(_nested(990), 500) == [TooDeepItem(MAX_RECORD_DEPTH)]


def test_a_too_deep_item_that_is_not_valid_json_is_400() -> None:
    with pytest.raises(Problem) as refused:
        json_items(b"[" + b'{"a": ' * 100 + b"1 2" + b"}" * 100 + b"]", 500)
    assert refused.value.status == 400


def test_an_escaped_lone_surrogate_does_not_reach_the_items_as_one() -> None:
    [item] = json_items(b'{"make": "\\ud800"}', 500)
    item["make"].encode("utf-8")


def test_numbers_come_as_json_loads_gives_them() -> None:
    body = b'[{"a": -9223372036854775808, "b": 18446744073709551616, "c": 1.5, "d": 1e999}]'
    assert json_items(body, 500) == json.loads(body)
