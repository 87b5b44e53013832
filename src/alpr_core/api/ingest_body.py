"""The body of ``POST /events``: read under a size cap, then split into items by content type.

- ``application/json``: one PlateEvent object, or an array of them; in an array, a string item is
  one base64 Avro message in the Confluent wire format.
- ``avro/binary`` or ``application/octet-stream``: one Avro message in the Confluent wire format.
- ``multipart/form-data``: an ``event`` part (a PlateEvent as JSON) and an optional ``image``
  part (the plate crop, JPEG or PNG), which becomes the event's ``plate_image``.

Items are checked one by one later (:mod:`alpr_core.ingest.items`); here only the body as a whole
can fail: 400 unreadable, 413 too large or too many events, 415 another content type, 422 no
events. A JSON body is parsed as a stream of tokens (ijson's C parser; docs/decisions.md), each
item built with an explicit stack: an item nested past ``MAX_RECORD_DEPTH`` is skipped and
becomes a :class:`~alpr_core.ingest.items.TooDeepItem`, rejected alone; the count of an array is
checked as its items arrive.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Iterator
from decimal import Decimal
from functools import cache
from types import ModuleType
from typing import Any

import ijson
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from alpr_core.api.problems import Problem
from alpr_core.events.parse import MAX_RECORD_DEPTH
from alpr_core.ingest.items import TooDeepItem

JSON = "application/json"
AVRO = ("avro/binary", "application/octet-stream")
MULTIPART = "multipart/form-data"
ACCEPTED = ", ".join((JSON, *AVRO, MULTIPART))


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_media_type(content_type: str | None) -> str:
    kind = media_type(content_type)
    if kind not in (JSON, MULTIPART, *AVRO):
        raise Problem(
            415,
            "Unsupported media type",
            f"Send one of: {ACCEPTED}.",
            headers={"Accept-Post": ACCEPTED},
        )
    return kind


async def read_capped(request: Request, max_bytes: int) -> bytes:
    """The whole body, or a 413 as soon as it is known to exceed ``max_bytes``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def body_items(kind: str, headers: Headers, body: bytes, max_events: int) -> list[Any]:
    if kind == JSON:
        return json_items(body, max_events)
    if kind == MULTIPART:
        return [await multipart_item(headers, body)]
    if not body:
        raise Problem(422, "No events", "The body is empty.")
    return [body]


def json_items(body: bytes, max_events: int) -> list[Any]:
    """A JSON object as one item, an array as its items; 413 as soon as an array has more than
    ``max_events``."""
    events = iter(_parser().basic_parse(body))  # use_float would refuse integers past 63 bits
    try:
        items = _top_level_items(events, max_events)
        for _ in events:  # the rest must be valid too: only whitespace may follow
            pass
    except (ijson.JSONError, ValueError) as error:  # UnicodeDecodeError is a ValueError
        raise _malformed() from error
    if items is None:
        raise Problem(422, "No events", "Send a PlateEvent object or an array of them.")
    if not items:
        raise Problem(422, "No events", "The array is empty.")
    return items


def _top_level_items(events: Iterator[tuple[str, Any]], max_events: int) -> list[Any] | None:
    """The items of the top-level array, the top-level object as one item, or None."""
    event, value = next(events, ("", None))
    if event == "start_map":
        return [_item(event, value, events)]
    if event != "start_array":
        return None
    items: list[Any] = []
    for event, value in events:
        if event == "end_array":
            break
        items.append(_item(event, value, events))
        if len(items) > max_events:
            raise Problem(413, "Too many events", f"Send at most {max_events} events per request.")
    return items


_OPEN = {"start_map", "start_array"}
_CLOSE = {"end_map", "end_array"}


def _item(first: str, scalar: Any, events: Iterator[tuple[str, Any]]) -> Any:
    """One value, starting at the event ``first``: built with an explicit stack, not recursion."""
    if first not in _OPEN:
        return float(scalar) if type(scalar) is Decimal else scalar
    root: Any = {} if first == "start_map" else []
    stack: list[Any] = [root]
    key = ""
    for event, value in events:
        if event == "map_key":
            key = value
        elif event in _CLOSE:
            stack.pop()
            if not stack:
                return root
        else:
            if event in _OPEN:
                node: Any = {} if event == "start_map" else []
            else:  # numbers with a fraction come as Decimal; json.loads gives float
                node = float(value) if type(value) is Decimal else value
            parent = stack[-1]
            if type(parent) is dict:
                parent[key] = node
            else:
                parent.append(node)
            if event in _OPEN:
                if len(stack) == MAX_RECORD_DEPTH:
                    return _skipped(events, len(stack) + 1)
                stack.append(node)
    raise _malformed()  # the parser raises first at the end of a truncated body


def _skipped(events: Iterator[tuple[str, Any]], open_containers: int) -> TooDeepItem:
    """Read past the rest of an item nested too deep, without building it."""
    for event, _ in events:
        if event in _OPEN:
            open_containers += 1
        elif event in _CLOSE:
            open_containers -= 1
            if open_containers == 0:
                break
    return TooDeepItem(MAX_RECORD_DEPTH)


@cache
def _parser() -> ModuleType:
    """ijson's C backend: the pure-Python one is many times slower."""
    backend: ModuleType = ijson.get_backend("yajl2_c")
    return backend


async def multipart_item(headers: Headers, body: bytes) -> Any:
    """The ``event`` part as a JSON value, with the ``image`` part as its ``plate_image``."""
    parts = await _form_parts(headers, body)
    if "event" not in parts:
        raise Problem(422, "No events", "A multipart body needs an `event` part (JSON).")
    event = _json(parts["event"])
    image = parts.get("image")
    if image is None or not isinstance(event, dict):
        return event
    if event.get("plate_image") is not None:
        raise Problem(422, "Two images", "Send the image as the `image` part or as plate_image.")
    return {**event, "plate_image": image}


async def _form_parts(headers: Headers, body: bytes) -> dict[str, bytes]:
    parser = MultiPartParser(
        headers, _once(body), max_files=2, max_fields=2, max_part_size=max(len(body), 1)
    )
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise Problem(400, "Malformed multipart body", error.message) from error
    parts: dict[str, bytes] = {}
    for name, value in form.multi_items():
        parts[name] = await value.read() if isinstance(value, UploadFile) else value.encode()
    await form.close()
    return parts


async def _once(body: bytes) -> AsyncGenerator[bytes, None]:
    yield body


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:  # JSONDecodeError and UnicodeDecodeError
        raise _malformed() from error


def _malformed() -> Problem:
    return Problem(400, "Malformed JSON", "The body is not valid UTF-8 JSON.")


def _too_large(max_bytes: int) -> Problem:
    return Problem(413, "Body too large", f"Send at most {max_bytes} bytes per request.")
