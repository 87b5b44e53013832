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
    """Stores plate images by key.

    Every method raises :class:`~alpr_core.errors.TransientError` when the store is unreachable.
    """

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` at ``key``, replacing what is there (edge uploads, tools)."""

    def put_new(self, key: str, data: bytes, content_type: str) -> bool:
        """Store ``data`` at ``key`` unless an object is there already (a conditional PUT, so
        a replay never replaces the first read's image). True when this call created it."""

    def get(self, key: str) -> StoredObject | None:
        """The object at ``key``; None when there is none or ``key`` is not a valid path."""

    def presigned_url(self, key: str, ttl: timedelta) -> str | None: ...

    def delete_many(self, keys: Sequence[str]) -> int: ...

    def count(self, prefix: str = "") -> int: ...
