"""Hypothesis strategies for the property tests: Avro values by schema, near-valid records,
crafted and broken images, mutated bytes. Every strategy is bounded in size."""

from __future__ import annotations

import io
import json
import struct
import zlib
from typing import Any

from hypothesis import strategies as st
from PIL import Image

from alpr_core.events.avro import schema_text
from tests.unit.events.frames import png_header
from tests.unit.factories import image_bytes, record

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
TEXT = st.text(max_size=24)  # any code point but surrogates, NUL included


def _saved(image: Image.Image, image_format: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=image_format, **options)
    return out.getvalue()


def valid_images() -> list[bytes]:
    """Small images of every kind the edge may send, including unusual ones."""
    frames = [Image.new("RGB", (16, 8), (255, 0, 0))]
    return [
        image_bytes("JPEG"),
        image_bytes("PNG"),
        _saved(Image.new("CMYK", (16, 8)), "JPEG"),
        _saved(Image.new("L", (16, 8)), "JPEG", progressive=True),
        _saved(Image.new("I;16", (16, 8)), "PNG"),
        _saved(Image.new("P", (16, 8)), "PNG"),
        _saved(Image.new("RGBA", (16, 8)), "PNG"),
        _saved(Image.new("RGB", (16, 8)), "PNG", save_all=True, append_images=frames),
    ]


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` truncated, with bytes overwritten, inserted or cut."""
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(out)))
        kind = draw(st.sampled_from(["truncate", "overwrite", "insert", "cut"]))
        if kind == "truncate":
            del out[at:]
        elif kind == "overwrite" and at < len(out):
            out[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del out[at : at + draw(st.integers(1, 16))]
    return bytes(out)


def png_headers() -> st.SearchStrategy[bytes]:
    """PNGs with a valid IHDR claiming any size (bombs by header), bit depth and colour type."""
    sizes = st.integers(0, 2**31 - 1) | st.integers(0, 30_000)
    return st.builds(
        png_header, sizes, sizes, st.sampled_from([1, 2, 4, 8, 16, 3]), st.integers(0, 7)
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bombs() -> st.SearchStrategy[bytes]:
    """Real PNGs that inflate to many pixels of zeros: a large IDAT, small on the wire."""

    def bomb(side: int) -> bytes:
        raw = (b"\x00" + bytes(side * 3)) * side
        ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
        body = _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, 9))
        return b"\x89PNG\r\n\x1a\n" + body + _chunk(b"IEND", b"")

    return st.builds(bomb, st.integers(1, 2_500))


def images() -> st.SearchStrategy[bytes]:
    valid = st.sampled_from(valid_images())
    return st.one_of(
        valid,
        valid.flatmap(mutated),
        png_headers(),
        png_headers().flatmap(mutated),
        st.binary(max_size=256),
        st.sampled_from([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"]).flatmap(
            lambda signature: st.binary(max_size=256).map(lambda rest: signature + rest)
        ),
    )


def json_values(max_leaves: int = 20) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(*INT64),
        TEXT,
        st.floats(allow_nan=False, allow_infinity=False),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
        max_leaves=max_leaves,
    )


def schema(version: int) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(schema_text(version))
    return parsed


def avro_values(schema: Any) -> st.SearchStrategy[Any]:
    """Any value that fits ``schema`` (named types inline, not recursive)."""
    primitive = {
        "null": st.none(),
        "boolean": st.booleans(),
        "int": st.integers(*INT32),
        "long": st.integers(*INT64),
        "float": st.floats(width=32),
        "double": st.floats(),
        "string": TEXT,
        "bytes": st.binary(max_size=64),
    }
    if isinstance(schema, str):
        return primitive[schema]
    if isinstance(schema, list):
        return st.one_of([avro_values(branch) for branch in schema])
    kind = schema["type"]
    if kind == "record":
        fields = {f["name"]: avro_values(f["type"]) for f in schema["fields"]}
        return st.fixed_dictionaries(fields)
    if kind == "array":
        return st.lists(avro_values(schema["items"]), max_size=3)
    if kind == "map":
        return st.dictionaries(TEXT, avro_values(schema["values"]), max_size=3)
    return avro_values(kind)


def near_valid(schema: Any, valid: Any) -> st.SearchStrategy[Any]:
    """Mostly ``valid``, with some fields (at any level) replaced by anything the schema allows,
    so that random values reach every check, not only the first one."""
    if isinstance(schema, list):
        chosen = [b for b in schema if isinstance(b, dict) and b.get("type") == "record"]
        if chosen and isinstance(valid, dict):
            return near_valid(chosen[0], valid) | avro_values(schema)
    if isinstance(schema, dict) and schema.get("type") == "record" and isinstance(valid, dict):
        fields = {}
        for field in schema["fields"]:
            name, kind = field["name"], field["type"]
            if name == "plate_image":
                fields[name] = st.none() | images()
            elif name in valid:
                fields[name] = near_valid(kind, valid[name])
            else:
                fields[name] = avro_values(kind)
        return st.fixed_dictionaries(fields)
    if valid is None:
        return avro_values(schema)
    kept = st.integers(0, 9).map(bool)  # nine in ten values stay valid
    return st.tuples(kept, avro_values(schema)).map(lambda pair: valid if pair[0] else pair[1])


def near_valid_records(version: int) -> st.SearchStrategy[dict[str, Any]]:
    return near_valid(schema(version), record())
