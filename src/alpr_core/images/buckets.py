"""Create the image bucket when it is missing (startup only; obstore does not manage buckets),
and drop a bucket with its objects.

Without ``MINIO_ENDPOINT`` images go to a directory, which the directory store creates itself."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from alpr_core.config import ObjectStoreSettings
from alpr_core.errors import TransientError

_MISSING = {"404", "NoSuchBucket", "NotFound"}


def ensure_bucket(settings: ObjectStoreSettings) -> None:
    if not settings.endpoint:
        return
    client = _client(settings)
    try:
        client.head_bucket(Bucket=settings.bucket)
    except ClientError as error:
        if _code(error) not in _MISSING:
            raise
        client.create_bucket(Bucket=settings.bucket)
    except BotoCoreError as error:
        raise TransientError(f"object store unreachable: {error}") from error


def drop_bucket(settings: ObjectStoreSettings) -> None:
    """Delete the bucket and every object in it, if it exists (tests and benchmarks clean up
    with it: MinIO's background scanner walks every bucket it keeps)."""
    if not settings.endpoint:
        return
    client = _client(settings)
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=settings.bucket):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=settings.bucket, Delete={"Objects": keys})
        client.delete_bucket(Bucket=settings.bucket)
    except ClientError as error:
        if _code(error) not in _MISSING:
            raise


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code"))


def _client(settings: ObjectStoreSettings) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=settings.endpoint_url(),
        aws_access_key_id=settings.access_key.get_secret_value() or None,
        aws_secret_access_key=settings.secret_key.get_secret_value() or None,
        region_name=settings.region,
        config=Config(
            s3={"addressing_style": "path"},
            connect_timeout=5,
            read_timeout=10,
            retries={"max_attempts": 2},
        ),
    )
