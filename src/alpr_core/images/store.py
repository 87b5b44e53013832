"""The object-store contract every image backend fulfils."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredObject:
    data: bytes
    content_type: str
    etag: str


class ImageStore(Protocol):
    """Stores plate images by key. Writes are idempotent: the same key and bytes may be re-put.

    Every method raises :class:`~alpr_core.errors.TransientError` when the store is unreachable.
    """

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> StoredObject | None: ...

    def presigned_url(self, key: str, ttl: timedelta) -> str | None: ...

    def delete_many(self, keys: Sequence[str]) -> int: ...

    def count(self, prefix: str = "") -> int: ...
