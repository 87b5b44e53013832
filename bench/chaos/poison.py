"""Poison of every kind, for Kafka (bytes) and for POST /events (JSON items)."""

from __future__ import annotations

import base64
import random
import struct
import zlib
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

Record = dict[str, Any]
Serialize = Callable[[Record], bytes]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEEP_JSON_DEPTH = 600


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _png(width: int, height: int, bit_depth: int, idat: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


@cache
def png_bomb() -> bytes:
    """66 bytes whose IHDR claims 20000x20000 pixels (valid CRCs, almost no data)."""
    return _png(20000, 20000, 8, zlib.compress(b"\x00"))


@cache
def huge_png() -> bytes:
    """A real 10000x10000 black-and-white PNG: every row present, compressed to a few KB."""
    side = 10000
    row = b"\x00" + bytes((side + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return _png(side, side, 1, data)


def own_object_key(record: Record, extension: str = "jpg") -> str:
    """The key the storage service gives an inline crop (images/keys.py's layout)."""
    t = datetime.fromisoformat(record["captured_at"])
    millis = t.microsecond // 1000
    stamp = f"{t:%Y%m%d_%H%M%S}_{millis:03d}"
    return f"{t:%Y/%m/%d}/plate_{stamp}_{record['event_id']}.{extension}"


def _with(record: Record, **changes: Any) -> Record:
    return {**record, **changes}


def _nul_make(record: Record) -> Record:
    return _with(record, vehicle={**record["vehicle"], "make": "Toy\x00ota"})


def _nul_text(record: Record) -> Record:
    return _with(record, track_id=f"{record['track_id']}\x00x")


def _borrowed(record: Record, victim: Record, bucket: str) -> Record:
    url = f"s3://{bucket}/{own_object_key(victim)}"
    images = {**record["images"], "plate_url": url}
    return _with(record, images=images, plate_image=None)


def _deep(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        node = {"a": node}
    return node


KAFKA_KINDS = (
    "random_bytes",
    "truncated_frame",
    "png_bomb",
    "huge_png",
    "nul_make",
    "nul_text",
    "borrowed_plate_url",
)
HTTP_KINDS = ("deep_unknown_fields", "png_bomb", "huge_png", "nul_text", "borrowed_plate_url")


def kafka_poison(
    kind: str, record: Record, victim: Record, bucket: str, serialize: Serialize, rng: random.Random
) -> bytes:
    if kind == "random_bytes":
        return rng.randbytes(rng.randint(1, 200))
    if kind == "truncated_frame":
        whole = serialize(record)
        return whole[: rng.randint(5, len(whole) - 1)]
    return serialize(_poisoned_record(kind, record, victim, bucket))


def http_poison(kind: str, record: Record, victim: Record, bucket: str) -> Record:
    if kind == "deep_unknown_fields":
        return _with(record, chaos_unknown=_deep(DEEP_JSON_DEPTH))
    return _poisoned_record(kind, record, victim, bucket)


def _poisoned_record(kind: str, record: Record, victim: Record, bucket: str) -> Record:
    if kind == "png_bomb":
        return _with(record, plate_image=png_bomb(), images={**record["images"], "plate_url": None})
    if kind == "huge_png":
        return _with(record, plate_image=huge_png(), images={**record["images"], "plate_url": None})
    if kind == "nul_make":
        return _nul_make(record)
    if kind == "nul_text":
        return _nul_text(record)
    if kind == "borrowed_plate_url":
        return _borrowed(record, victim, bucket)
    raise ValueError(f"unknown poison {kind}")


def as_json_item(record: Record) -> Record:
    image = record.get("plate_image")
    if image is None:
        return record
    return {**record, "plate_image": base64.b64encode(image).decode("ascii")}
