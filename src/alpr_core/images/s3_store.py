"""Plate images in any S3-compatible server (MinIO, SeaweedFS, AWS S3) through boto3."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from alpr_core.config import ObjectStoreSettings
from alpr_core.errors import TransientError
from alpr_core.images.store import StoredObject

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_DELETE_BATCH = 1000
_MISSING = {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}
_CLIENT_ERRORS_WORTH_RETRY = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"}


def make_s3_client(settings: ObjectStoreSettings, max_connections: int = 32) -> S3Client:
    client: S3Client = boto3.client(
        "s3",
        endpoint_url=settings.endpoint_url(),
        aws_access_key_id=settings.access_key.get_secret_value() or None,
        aws_secret_access_key=settings.secret_key.get_secret_value() or None,
        region_name=settings.region,
        config=Config(
            s3={"addressing_style": "path"},
            max_pool_connections=max_connections,
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 2, "mode": "standard"},
        ),
    )
    return client


class S3ImageStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def ensure_bucket(self) -> None:
        with _transient_on_failure():
            try:
                self._client.head_bucket(Bucket=self.bucket)
            except ClientError as error:
                if _code(error) not in _MISSING:
                    raise
                self._client.create_bucket(Bucket=self.bucket)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with _transient_on_failure():
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
            )

    def get(self, key: str) -> StoredObject | None:
        with _transient_on_failure():
            try:
                response = self._client.get_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                if _code(error) in _MISSING:
                    return None
                raise
            return StoredObject(
                data=response["Body"].read(),
                content_type=response.get("ContentType", "application/octet-stream"),
                etag=response.get("ETag", "").strip('"'),
            )

    def delete_many(self, keys: Sequence[str]) -> int:
        """Delete ``keys`` (absent keys count as deleted, as S3 reports them)."""
        deleted = 0
        for start in range(0, len(keys), _DELETE_BATCH):
            chunk = keys[start : start + _DELETE_BATCH]
            with _transient_on_failure():
                response = self._client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": True},
                )
            if response.get("Errors"):
                raise TransientError(f"{len(response['Errors'])} objects were not deleted")
            deleted += len(chunk)
        return deleted

    def count(self, prefix: str = "") -> int:
        with _transient_on_failure():
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            return sum(page.get("KeyCount", 0) for page in pages)


def _code(error: ClientError) -> str:
    response: Any = error.response
    return str(response.get("Error", {}).get("Code", ""))


@contextmanager
def _transient_on_failure() -> Iterator[None]:
    """Map network failures and server-side 5xx answers to :class:`TransientError`."""
    try:
        yield
    except BotoCoreError as error:
        raise TransientError(f"object store unreachable: {error}") from error
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status >= 500 or _code(error) in _CLIENT_ERRORS_WORTH_RETRY:
            raise TransientError(f"object store: {_code(error)}") from error
        raise
