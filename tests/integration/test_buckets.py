"""Buckets on the real S3 server: created when missing, dropped with their objects."""

from __future__ import annotations

import pytest

from alpr_core.config import Settings
from alpr_core.errors import TransientError
from alpr_core.images.buckets import drop_bucket, ensure_bucket
from alpr_core.images.object_store import s3_image_store


def test_drop_bucket_deletes_its_objects_and_the_bucket(settings: Settings) -> None:
    ensure_bucket(settings.object_store)
    store = s3_image_store(settings.object_store)
    for number in range(1005):  # more than one page of the listing
        store.put(f"2026/01/01/plate_{number}.jpg", b"\xff\xd8\xff", "image/jpeg")
    assert store.count() == 1005

    drop_bucket(settings.object_store)

    with pytest.raises(TransientError):  # the bucket itself is gone, not just emptied
        store.count()
    drop_bucket(settings.object_store)  # a missing bucket: nothing to do, no error
    ensure_bucket(settings.object_store)
    assert s3_image_store(settings.object_store).count() == 0
