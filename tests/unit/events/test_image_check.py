from __future__ import annotations

import io

import pytest
from PIL import Image

from alpr_core.errors import RejectedEvent, RejectReason
from alpr_core.events.image_check import check_image
from tests.unit.events.frames import png_header
from tests.unit.factories import image_bytes

MAX_BYTES = 1_048_576
MAX_PIXELS = 4_000_000


def _saved(image: Image.Image, image_format: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=image_format, **options)
    return out.getvalue()


def _rejected(data: bytes, max_pixels: int = MAX_PIXELS) -> RejectedEvent:
    with pytest.raises(RejectedEvent) as rejected:
        check_image(data, MAX_BYTES, max_pixels)
    return rejected.value


def test_a_png_whose_header_claims_20000x20000_is_too_large() -> None:
    """Pillow raises DecompressionBombError on opening it; it used to escape."""
    bomb = png_header(20_000, 20_000)
    assert len(bomb) < 70
    rejected = _rejected(bomb)
    assert rejected.reason == RejectReason.IMAGE_TOO_LARGE
    assert rejected.cause == "DecompressionBombError"


def test_a_10000x10000_png_below_pillows_error_limit_is_too_large() -> None:
    assert _rejected(png_header(10_000, 10_000)).reason == RejectReason.IMAGE_TOO_LARGE


def test_a_png_over_our_pixel_cap_but_under_pillows_is_too_large() -> None:
    rejected = _rejected(png_header(5_000, 5_000))
    assert rejected.reason == RejectReason.IMAGE_TOO_LARGE
    assert rejected.detail == "5000x5000 pixels > 4000000"


def test_the_pixel_cap_is_the_limit_given() -> None:
    jpeg = image_bytes("JPEG", (40, 12))
    assert check_image(jpeg, MAX_BYTES, 40 * 12).content_type == "image/jpeg"
    assert _rejected(jpeg, max_pixels=40 * 12 - 1).reason == RejectReason.IMAGE_TOO_LARGE


def test_the_bomb_warning_is_an_error_here_without_changing_pillows_settings() -> None:
    before = Image.MAX_IMAGE_PIXELS
    _rejected(png_header(10_000, 10_000), max_pixels=10**9)
    assert before == Image.MAX_IMAGE_PIXELS


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="zero bytes"),
        pytest.param(b"\x89PNG\r\n\x1a\n", id="png signature only"),
        pytest.param(png_header(40, 12)[:20], id="truncated png header"),
        pytest.param(png_header(0, 0), id="png of zero pixels"),
        pytest.param(png_header(40, 12, bit_depth=3), id="png with an invalid bit depth"),
        pytest.param(image_bytes("PNG")[:-20], id="truncated png"),
        pytest.param(b"\xff\xd8\xff" + b"\x00" * 50, id="jpeg signature, garbage"),
    ],
)
def test_broken_images_are_invalid(data: bytes) -> None:
    assert _rejected(data).reason == RejectReason.INVALID_IMAGE


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        pytest.param(_saved(Image.new("CMYK", (40, 12)), "JPEG"), "image/jpeg", id="cmyk jpeg"),
        pytest.param(_saved(Image.new("I;16", (40, 12)), "PNG"), "image/png", id="16-bit png"),
        pytest.param(
            _saved(
                Image.new("RGB", (40, 12)),
                "PNG",
                save_all=True,
                append_images=[Image.new("RGB", (40, 12), (255, 0, 0))],
            ),
            "image/png",
            id="animated png",
        ),
    ],
)
def test_unusual_but_valid_images_are_accepted(data: bytes, content_type: str) -> None:
    assert check_image(data, MAX_BYTES, MAX_PIXELS).content_type == content_type
