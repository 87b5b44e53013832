"""The body of ``POST /events``: read under a size cap, then split into items by content type.

- ``application/json``: one PlateEvent object, or an array of them; in an array, a string item is
  one base64 Avro message in the Confluent wire format.
- ``avro/binary`` or ``application/octet-stream``: one Avro message in the Confluent wire format.
- ``multipart/form-data``: an ``event`` part (a PlateEvent as JSON) and an optional ``image``
  part (the plate crop, JPEG or PNG), which becomes the event's ``plate_image``.

Items are checked one by one later (:mod:`alpr_core.ingest.items`); here only the body as a whole
can fail: 400 unreadable, 413 too large, 415 another content type, 422 no events.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from alpr_core.api.problems import Problem

JSON = "application/json"
AVRO = ("avro/binary", "application/octet-stream")
MULTIPART = "multipart/form-data"
ACCEPTED = ", ".join((JSON, *AVRO, MULTIPART))


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_media_type(content_type: str | None) -> str:
    kind = media_type(content_type)
    if kind not in (JSON, MULTIPART, *AVRO):
        raise Problem(415, "Unsupported media type", f"Send one of: {ACCEPTED}.",
                      headers={"Accept-Post": ACCEPTED})  # fmt: skip
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


async def body_items(kind: str, headers: Headers, body: bytes) -> list[Any]:
    if kind == JSON:
        return json_items(body)
    if kind == MULTIPART:
        return [await multipart_item(headers, body)]
    if not body:
        raise Problem(422, "No events", "The body is empty.")
    return [body]


def json_items(body: bytes) -> list[Any]:
    """A JSON object as one item, an array as its items."""
    value = _json(body)
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise Problem(422, "No events", "Send a PlateEvent object or an array of them.")
    if not items:
        raise Problem(422, "No events", "The array is empty.")
    return items


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
    parser = MultiPartParser(headers, _once(body), max_files=2, max_fields=2,
                             max_part_size=max(len(body), 1))  # fmt: skip
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
        raise Problem(400, "Malformed JSON", "The body is not valid UTF-8 JSON.") from error


def _too_large(max_bytes: int) -> Problem:
    return Problem(413, "Body too large", f"Send at most {max_bytes} bytes per request.")
