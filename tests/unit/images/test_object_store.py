"""The image store over a local directory: the same class the S3 path uses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from alpr_core.images.object_store import ObjectImageStore, local_store


def test_put_get_count_and_delete(tmp_path: Path) -> None:
    store = ObjectImageStore(local_store(tmp_path / "images"))
    store.put("2026/11/28/plate_a.jpg", b"\xff\xd8\xffA", "image/jpeg")
    store.put("2026/11/28/plate_b.png", b"\x89PNGB", "image/png")
    store.put("2026/11/29/plate_c.jpg", b"\xff\xd8\xffC", "image/jpeg")

    got = store.get("2026/11/28/plate_a.jpg")
    assert got is not None
    assert got.data == b"\xff\xd8\xffA"
    assert got.content_type == "image/jpeg"
    assert store.get("2026/11/28/missing.jpg") is None
    assert store.count() == 3
    assert store.count("2026/11/28") == 2

    assert store.delete_many(["2026/11/28/plate_a.jpg", "2026/11/28/plate_b.png"]) == 2
    assert store.count() == 1
    assert (tmp_path / "images/2026/11/29/plate_c.jpg").read_bytes() == b"\xff\xd8\xffC"


def test_putting_the_same_key_again_overwrites(tmp_path: Path) -> None:
    store = ObjectImageStore(local_store(tmp_path))
    store.put("k.jpg", b"one", "image/jpeg")
    store.put("k.jpg", b"two", "image/jpeg")
    got = store.get("k.jpg")
    assert got is not None
    assert got.data == b"two"
    assert store.count() == 1


def test_a_directory_store_has_no_presigned_urls(tmp_path: Path) -> None:
    store = ObjectImageStore(local_store(tmp_path))
    store.put("k.jpg", b"one", "image/jpeg")
    assert store.presigned_url("k.jpg", timedelta(minutes=5)) is None


def test_put_new_keeps_the_first_image(tmp_path: Path) -> None:
    store = ObjectImageStore(local_store(tmp_path))
    assert store.put_new("k.jpg", b"first", "image/jpeg") is True
    assert store.put_new("k.jpg", b"second", "image/jpeg") is False
    got = store.get("k.jpg")
    assert got is not None
    assert got.data == b"first"


@pytest.mark.parametrize("key", ["../x.jpg", "a/../b.jpg", "a//b.jpg", "a/./b.jpg"])
def test_get_of_an_invalid_path_is_none(tmp_path: Path, key: str) -> None:
    assert ObjectImageStore(local_store(tmp_path)).get(key) is None
