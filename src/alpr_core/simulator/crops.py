"""Small JPEG plate crops rendered on the fly with Pillow."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

_BACKGROUNDS = ((250, 250, 250), (250, 215, 60), (235, 235, 225))


def render_crop(text: str, rng: random.Random, quality: int = 90) -> bytes:
    """A plate-like picture of ``text``: coloured plate, dark glyphs, noise and blur.

    Sizes vary with the noise; at the default quality a crop is roughly 10-30 KB.
    """
    width, height = rng.randint(300, 400), rng.randint(80, 110)
    image = Image.effect_noise((width, height), rng.uniform(40, 70)).convert("RGB")
    plate = Image.new("RGB", (width, height), rng.choice(_BACKGROUNDS))
    image = Image.blend(plate, image, 0.35)
    draw = ImageDraw.Draw(image)
    draw.rectangle((2, 2, width - 3, height - 3), outline=(20, 20, 20), width=3)
    font = ImageFont.load_default(size=height * 0.6)
    draw.text((width / 2, height / 2), text, fill=(15, 15, 15), font=font, anchor="mm")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 0.8)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()
