"""Checks that inline image bytes really are a JPEG or PNG, under a size and a pixel cap.

Any failure of the decoder is the image's fault, so every exception becomes ``invalid_image``:
a hostile header must reject its event, never stop the service.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

from alpr_core.errors import RejectedEvent, RejectReason
from alpr_core.events.model import InlineImage

_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def check_image(data: bytes, max_bytes: int, max_pixels: int) -> InlineImage:
    """Return the image with its content type, or raise :class:`RejectedEvent`."""
    if len(data) > max_bytes:
        raise RejectedEvent(RejectReason.IMAGE_TOO_LARGE, f"{len(data)} bytes > {max_bytes}")
    if not data.startswith(_SIGNATURES):
        raise RejectedEvent(RejectReason.INVALID_IMAGE, "not a JPEG or PNG signature")
    image_format = _verified_format(data, max_pixels)
    if image_format not in _FORMATS:
        raise RejectedEvent(RejectReason.INVALID_IMAGE, f"unsupported format {image_format}")
    content_type, extension = _FORMATS[image_format]
    return InlineImage(data=data, content_type=content_type, extension=extension)


def _verified_format(data: bytes, max_pixels: int) -> str | None:
    """The format from the header, after the pixel cap and ``verify()``; Pillow's own bomb
    warning is an error here, without touching its global settings."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=tuple(_FORMATS)) as image:
                _check_pixels(image.size, max_pixels)
                image.verify()
                return image.format
    except RejectedEvent:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _refused(RejectReason.IMAGE_TOO_LARGE, error) from error
    except Exception as error:
        raise _refused(RejectReason.INVALID_IMAGE, error) from error


def _refused(reason: RejectReason, error: Exception) -> RejectedEvent:
    name = type(error).__name__
    return RejectedEvent(reason, f"unreadable image: {name}", cause=name)


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        detail = f"{width}x{height} pixels > {max_pixels}"
        raise RejectedEvent(RejectReason.IMAGE_TOO_LARGE, detail)
