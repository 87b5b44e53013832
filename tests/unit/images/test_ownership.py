from __future__ import annotations

import pytest

from alpr_core.images.ownership import EdgeUploads, is_safe_key

EDGE = EdgeUploads.of("alpr-plate-images", ["edge/{camera_id}/", "sites/{site}/"])
OURS = "s3://alpr-plate-images/"


@pytest.mark.parametrize(
    ("url", "camera_id", "site", "expected"),
    [
        pytest.param(
            OURS + "edge/cam-1/2026/a.jpg",
            "cam-1",
            None,
            "edge/cam-1/2026/a.jpg",
            id="its own camera's upload",
        ),
        pytest.param(
            OURS + "sites/north/a.jpg",
            "cam-9",
            "north",
            "sites/north/a.jpg",
            id="its own site's upload",
        ),
        pytest.param(
            OURS + "edge/cam-2/2026/a.jpg", "cam-1", None, None, id="another camera's upload"
        ),
        pytest.param(
            OURS + "sites/south/a.jpg", "cam-1", "north", None, id="another site's upload"
        ),
        pytest.param(OURS + "sites/None/a.jpg", "cam-1", None, None, id="a read without a site"),
        pytest.param(
            OURS + "2026/11/28/plate_20261128_120000_001_x.jpg",
            "cam-1",
            None,
            None,
            id="an image the service stored for another read",
        ),
        pytest.param(OURS + "edge/cam-1/../cam-2/a.jpg", "cam-1", None, None, id="dot-dot"),
        pytest.param(OURS + "edge/cam-1//a.jpg", "cam-1", None, None, id="empty segment"),
        pytest.param(
            OURS + "edge/cam-1/sub/a.jpg",
            "cam-1/sub",
            None,
            None,
            id="a camera id that is not one segment",
        ),
        pytest.param(
            "s3://other-bucket/edge/cam-1/a.jpg", "cam-1", None, None, id="another bucket"
        ),
        pytest.param(
            "https://edge.example/edge/cam-1/a.jpg", "cam-1", None, None, id="not our bucket at all"
        ),
        pytest.param(None, "cam-1", None, None, id="no url"),
    ],
)
def test_owned_key(url: str | None, camera_id: str, site: str | None, expected: str | None) -> None:
    assert EDGE.owned_key(url, camera_id, site) == expected


def test_in_bucket() -> None:
    assert EDGE.in_bucket(OURS + "anything")
    assert not EDGE.in_bucket("s3://alpr-plate-images-2/x")
    assert not EDGE.in_bucket(None)


@pytest.mark.parametrize(
    ("key", "safe"),
    [
        ("a/b.jpg", True),
        ("", False),
        ("/a", False),
        ("a/", False),
        ("a/./b", False),
        ("a/../b", False),
        ("a\x00b", False),
        ("a\nb", False),
    ],
)
def test_is_safe_key(key: str, safe: bool) -> None:
    assert is_safe_key(key) is safe
