"""Which objects in our bucket a read may name as its image.

A read owns the image the service stored for it (its key holds the event id, ``images/keys.py``)
and, for edges that upload their own crops, the objects under the edge-upload prefixes
configured for its camera and site (``MINIO_EDGE_PREFIXES``, for example ``edge/{camera_id}/``).
A ``plate_url`` that names any other object in our bucket would serve another read's crop to
whoever may see this read, so it is refused at ingest and never followed when serving.
URLs outside our bucket are the edge's own business: stored as sent, never fetched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

_PLACEHOLDERS = ("camera_id", "site")


@dataclass(frozen=True, slots=True)
class EdgeUploads:
    """The bucket's URL prefix (``s3://bucket/``) and the edge-upload key prefix templates."""

    bucket_url: str
    prefixes: tuple[str, ...]

    @classmethod
    def of(cls, bucket: str, prefixes: Sequence[str]) -> EdgeUploads:
        return cls(f"s3://{bucket}/", tuple(prefixes))

    def in_bucket(self, url: str | None) -> bool:
        return url is not None and url.startswith(self.bucket_url)

    def owned_key(self, url: str | None, camera_id: str, site: str | None) -> str | None:
        """The object key ``url`` names, when it is an edge upload this read may serve."""
        if not self.in_bucket(url):
            return None
        assert url is not None
        key = url[len(self.bucket_url) :]
        if not is_safe_key(key):
            return None
        allowed = self._prefixes_for(camera_id, site)
        return key if any(key.startswith(prefix) for prefix in allowed) else None

    def _prefixes_for(self, camera_id: str, site: str | None) -> list[str]:
        values = {"camera_id": camera_id, "site": site}
        prefixes = []
        for template in self.prefixes:
            used = [name for name in _PLACEHOLDERS if "{" + name + "}" in template]
            if all(_is_segment(values[name]) for name in used):
                prefixes.append(template.format_map({n: values[n] for n in _PLACEHOLDERS}))
        return prefixes


def is_safe_key(key: str) -> bool:
    """A plain relative object path: no empty, ``.`` or ``..`` segments, no control bytes."""
    if not key or key.startswith("/") or any(ord(char) < 32 for char in key):
        return False
    return all(segment not in ("", ".", "..") for segment in key.split("/"))


def _is_segment(value: str | None) -> bool:
    """A placeholder value is one path segment, so one camera cannot claim another's prefix."""
    return bool(value) and value is not None and "/" not in value and is_safe_key(value)
