"""What a version-1 edge does before it publishes: upload its plate crop to the bucket."""

from __future__ import annotations

import random
from typing import Any

from alpr_core.images.store import ImageStore
from alpr_core.simulator.crops import render_crop


class EdgeImageUploader:
    """Puts a rendered crop where a version-1 event's ``plate_url`` says, when in ``bucket``."""

    def __init__(self, images: ImageStore, bucket: str, seed: int | None = None) -> None:
        self._images = images
        self._prefix = f"s3://{bucket}/"
        self._rng = random.Random(seed)

    def __call__(self, record: dict[str, Any]) -> None:
        url = (record.get("images") or {}).get("plate_url")
        if url and url.startswith(self._prefix):
            crop = render_crop(record["plate"]["text"], self._rng)
            self._images.put(url[len(self._prefix) :], crop, "image/jpeg")
