from __future__ import annotations

from pathlib import Path

from alpr_core.images.object_store import ObjectImageStore, local_store
from alpr_core.simulator.edge_uploads import EdgeImageUploader
from tests.unit.factories import record


def test_version_1_crops_in_our_bucket_are_uploaded_and_others_are_not(tmp_path: Path) -> None:
    images = ObjectImageStore(local_store(tmp_path))
    upload = EdgeImageUploader(images, "alpr-plate-images", seed=1)

    upload(record(images={"plate_url": "s3://alpr-plate-images/edge/cam-1/a.jpg"}))
    upload(record(images={"plate_url": "s3://someone-else/edge/b.jpg"}))
    upload(record(images={"plate_url": None}))

    stored = images.get("edge/cam-1/a.jpg")
    assert stored is not None
    assert stored.data[:3] == b"\xff\xd8\xff"
    assert images.count() == 1
