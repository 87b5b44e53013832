"""Property: any bytes given as an inline image end as an image or a rejection, nothing else.

The suite runs a fixed set of examples; for many more:
``HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/unit -k properties``.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from alpr_core.errors import RejectedEvent, RejectReason
from alpr_core.events.image_check import check_image
from alpr_core.events.model import InlineImage
from tests.unit.events.frames import png_header
from tests.unit.events.strategies import images, png_bombs, png_headers

MAX_BYTES = 1_048_576
MAX_PIXELS = 4_000_000


def _outcome(data: bytes, max_pixels: int = MAX_PIXELS) -> InlineImage | RejectedEvent:
    try:
        return check_image(data, MAX_BYTES, max_pixels)
    except RejectedEvent as rejected:
        return rejected


@given(images())
@example(b"")
@example(png_header(20_000, 20_000))
def test_any_image_bytes_end_as_an_image_or_a_rejection(data: bytes) -> None:
    outcome = _outcome(data)
    if isinstance(outcome, InlineImage):
        assert outcome.content_type in ("image/jpeg", "image/png")
    else:
        assert outcome.reason in (RejectReason.INVALID_IMAGE, RejectReason.IMAGE_TOO_LARGE)


@given(png_headers())
def test_an_image_over_the_pixel_cap_is_never_accepted(data: bytes) -> None:
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    outcome = _outcome(data)
    if width * height > MAX_PIXELS:
        assert isinstance(outcome, RejectedEvent)


@given(png_bombs(), st.integers(1, MAX_PIXELS))
def test_a_real_bomb_is_judged_by_its_header(data: bytes, max_pixels: int) -> None:
    side = int.from_bytes(data[16:20], "big")
    outcome = _outcome(data, max_pixels)
    assert isinstance(outcome, InlineImage) == (side * side <= max_pixels)
