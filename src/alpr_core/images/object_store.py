"""Plate images in an object store through obstore (Rust's object_store): any S3-compatible
server, or a local directory, behind the one :class:`ImageStore` interface.

obstore signs and sends requests in Rust with the GIL released, so uploads cost little client CPU
and run in parallel threads (docs/decisions.md#libraries).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import obstore
from obstore.exceptions import (
    AlreadyExistsError,
    GenericError,
    JoinError,
    NotFoundError,
)
from obstore.store import LocalStore, S3Store

from alpr_core.config import ObjectStoreSettings, Settings
from alpr_core.errors import TransientError
from alpr_core.images.ownership import EdgeUploads
from alpr_core.images.store import StoredObject

_DELETE_BATCH = 1000


def s3_store(settings: ObjectStoreSettings) -> S3Store:
    """An S3 client for the configured bucket; a few quick retries, then our own backoff."""
    return S3Store(
        settings.bucket,
        endpoint=settings.endpoint_url(),
        access_key_id=settings.access_key.get_secret_value() or None,
        secret_access_key=settings.secret_key.get_secret_value() or None,
        region=settings.region,
        virtual_hosted_style_request=False,
        client_options={
            "allow_http": not settings.secure,
            "connect_timeout": timedelta(seconds=5),
            "timeout": timedelta(seconds=30),
        },
        retry_config={
            "max_retries": 2,
            "retry_timeout": timedelta(seconds=10),
            "backoff": {
                "init_backoff": timedelta(milliseconds=100),
                "max_backoff": timedelta(seconds=2),
                "base": 2,
            },
        },
    )


def local_store(directory: Path) -> LocalStore:
    directory.mkdir(parents=True, exist_ok=True)
    return LocalStore(directory, mkdir=True)


class ObjectImageStore:
    """The :class:`~alpr_core.images.store.ImageStore` over any obstore store."""

    def __init__(self, store: S3Store | LocalStore) -> None:
        self._store = store
        self._keeps_attributes = not isinstance(store, LocalStore)  # a directory has no metadata

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with _transient_on_failure():
            obstore.put(self._store, key, data, attributes=self._attributes(content_type))

    def put_new(self, key: str, data: bytes, content_type: str) -> bool:
        with _transient_on_failure():
            try:
                attributes = self._attributes(content_type)
                obstore.put(self._store, key, data, attributes=attributes, mode="create")
            except AlreadyExistsError:
                return False
        return True

    def _attributes(self, content_type: str) -> dict[str, str] | None:
        return {"Content-Type": content_type} if self._keeps_attributes else None

    def get(self, key: str) -> StoredObject | None:
        with _transient_on_failure():
            try:
                result = obstore.get(self._store, key)
            except (NotFoundError, FileNotFoundError, ValueError):  # ValueError: not a valid path
                return None
            data = bytes(result.bytes())
        attributes: Any = result.attributes
        return StoredObject(
            data=data,
            content_type=str(attributes.get("Content-Type") or _content_type_of(key)),
            etag=(result.meta.get("e_tag") or "").strip('"'),
        )

    def presigned_url(self, key: str, ttl: timedelta) -> str | None:
        """A short-lived GET URL for an object that exists; None for a directory store."""
        if isinstance(self._store, LocalStore):
            return None
        with _transient_on_failure():
            try:
                obstore.head(self._store, key)
            except (NotFoundError, FileNotFoundError):
                return None
            return str(obstore.sign(self._store, "GET", key, ttl))

    def delete_many(self, keys: Sequence[str]) -> int:
        """Delete ``keys``; keys already gone count as deleted."""
        for start in range(0, len(keys), _DELETE_BATCH):
            with _transient_on_failure():
                obstore.delete(self._store, list(keys[start : start + _DELETE_BATCH]))
        return len(keys)

    def count(self, prefix: str = "") -> int:
        with _transient_on_failure():
            return sum(len(chunk) for chunk in obstore.list(self._store, prefix or None))


def _content_type_of(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


@contextmanager
def _transient_on_failure() -> Iterator[None]:
    """Network failures, timeouts and 5xx answers (after obstore's own retries) are transient."""
    try:
        yield
    except (GenericError, JoinError, TimeoutError, ConnectionError) as error:
        raise TransientError(f"object store: {type(error).__name__}: {error}") from error


def s3_image_store(settings: ObjectStoreSettings) -> ObjectImageStore:
    return ObjectImageStore(s3_store(settings))


def image_store(settings: Settings) -> ObjectImageStore:
    """The configured S3 bucket; without ``MINIO_ENDPOINT``, a directory under ALPR_DATA_DIR."""
    if settings.object_store.endpoint:
        return s3_image_store(settings.object_store)
    return ObjectImageStore(local_store(settings.local.images_dir(settings.object_store.bucket)))


def edge_uploads_of(settings: Settings) -> EdgeUploads:
    """Which objects of the configured bucket reads may name as their edge-uploaded image."""
    return EdgeUploads.of(settings.object_store.bucket, settings.object_store.edge_prefixes)
