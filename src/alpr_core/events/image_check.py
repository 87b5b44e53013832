"""Checks that inline image bytes really are a JPEG or PNG, under a size cap."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from alpr_core.errors import RejectedEvent, RejectReason
from alpr_core.events.model import InlineImage

_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def check_image(data: bytes, max_bytes: int) -> InlineImage:
    """Return the image with its content type, or raise :class:`RejectedEvent`."""
    if len(data) > max_bytes:
        raise RejectedEvent(RejectReason.IMAGE_TOO_LARGE, f"{len(data)} bytes > {max_bytes}")
    if not data.startswith(_SIGNATURES):
        raise RejectedEvent(RejectReason.INVALID_IMAGE, "not a JPEG or PNG signature")
    image_format = _verified_format(data)
    if image_format not in _FORMATS:
        raise RejectedEvent(RejectReason.INVALID_IMAGE, f"unsupported format {image_format}")
    content_type, extension = _FORMATS[image_format]
    return InlineImage(data=data, content_type=content_type, extension=extension)


def _verified_format(data: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            return image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise RejectedEvent(RejectReason.INVALID_IMAGE, f"unreadable image: {error}") from error
