"""Least privilege on the real MinIO server: the policies in docker/minio/policies, created as
``minio-init`` creates them, give the services user and an edge user exactly what they need
(docs/decisions.md#s3-least-privilege).

The policy files name the production bucket; like ``minio-init`` with ``MINIO_BUCKET``, the test
replaces that name, here with a bucket of its own, so runs never share a bucket. User and policy
names carry the same random suffix, because the server's users are shared by everyone using it.
"""

from __future__ import annotations

import io
import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from minio import Minio, MinioAdmin
from minio.credentials.providers import StaticProvider
from minio.error import MinioAdminException, S3Error
from pydantic import SecretStr

from alpr_core.config import ObjectStoreSettings, Settings
from alpr_core.images.buckets import drop_bucket, ensure_bucket
from alpr_core.images.object_store import image_store

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "docker" / "minio" / "policies"
PRODUCTION_BUCKET = "alpr-plate-images"
JPEG = b"\xff\xd8\xff\xe0 not really a jpeg"


@dataclass(frozen=True)
class Account:
    user: str
    secret: str


@dataclass(frozen=True)
class Accounts:
    """The users the test made, the bucket their policies name, and a bucket they do not."""

    root: ObjectStoreSettings
    bucket: str
    other_bucket: str
    services: Account
    edge: Account
    other_camera: str

    def s3(self, account: Account) -> Minio:
        return Minio(
            self.root.endpoint_url().split("://", 1)[1],
            access_key=account.user,
            secret_key=account.secret,
            secure=self.root.secure,
            region=self.root.region,
        )

    def admin(self, account: Account) -> MinioAdmin:
        return _admin(self.root, account.user, account.secret)

    def settings_of(self, account: Account) -> Settings:
        """The project's settings, pointing at the bucket with ``account``'s credentials."""
        base = Settings.load()
        object_store = base.object_store.model_copy(
            update={
                "bucket": self.bucket,
                "access_key": SecretStr(account.user),
                "secret_key": SecretStr(account.secret),
            }
        )
        return base.model_copy(update={"object_store": object_store})


def policy_document(name: str, bucket: str) -> dict[str, Any]:
    """A policy file as ``minio-init`` creates it: the production bucket name replaced."""
    text = (POLICIES / f"{name}.json").read_text()
    document: dict[str, Any] = json.loads(text.replace(PRODUCTION_BUCKET, bucket))
    return document


@pytest.fixture(scope="module")
def accounts(services_env: dict[str, str]) -> Iterator[Accounts]:
    suffix = uuid.uuid4().hex[:10]
    root = Settings.load().object_store.model_copy(update={"bucket": f"alpr-test-{suffix}"})
    other = root.model_copy(update={"bucket": f"alpr-test-other-{suffix}"})
    admin = _admin(root, root.access_key.get_secret_value(), root.secret_key.get_secret_value())
    made = Accounts(
        root=root,
        bucket=root.bucket,
        other_bucket=other.bucket,
        services=Account(f"alpr-services-{suffix}", secrets.token_hex(20)),
        edge=Account(f"cam-7-{suffix}", secrets.token_hex(20)),
        other_camera=f"cam-8-{suffix}",
    )
    policies = {"alpr-services": made.services, "alpr-edge": made.edge}
    undo: list[Callable[[], object]] = []
    try:
        for settings in (root, other):
            ensure_bucket(settings)
            undo.append(partial(drop_bucket, settings))
        for policy, account in policies.items():
            name = f"{policy}-{suffix}"
            admin.policy_add(name, policy=policy_document(policy, root.bucket))
            undo.append(partial(admin.policy_remove, name))
            admin.user_add(account.user, account.secret)
            undo.append(partial(admin.user_remove, account.user))
            admin.attach_policy([name], user=account.user)
        yield made
    finally:
        for step in reversed(undo):  # users before their policies, policies before buckets
            step()


# --- the services user ------------------------------------------------------------------------


def test_the_services_user_runs_the_image_store_code_path(accounts: Accounts) -> None:
    settings = accounts.settings_of(accounts.services)
    ensure_bucket(settings.object_store)  # what the services do at startup: the bucket exists
    store = image_store(settings)

    assert store.put_new("2026/01/01/plate_1.jpg", JPEG, "image/jpeg")
    assert not store.put_new("2026/01/01/plate_1.jpg", b"other", "image/jpeg")  # If-None-Match
    store.put("2026/01/01/plate_2.jpg", JPEG, "image/jpeg")
    stored = store.get("2026/01/01/plate_1.jpg")
    assert stored is not None
    assert (stored.data, stored.content_type) == (JPEG, "image/jpeg")
    assert store.count("2026/") == 2

    url = store.presigned_url("2026/01/01/plate_1.jpg", timedelta(seconds=60))
    assert url is not None
    assert httpx.get(url, timeout=10).content == JPEG

    assert store.delete_many(["2026/01/01/plate_1.jpg", "2026/01/01/plate_2.jpg"]) == 2
    assert store.count() == 0


def test_the_services_user_reads_edge_uploads(accounts: Accounts) -> None:
    key = f"edge/{accounts.edge.user}/x.jpg"
    accounts.s3(accounts.edge).put_object(accounts.bucket, key, io.BytesIO(JPEG), len(JPEG))
    store = image_store(accounts.settings_of(accounts.services))

    stored = store.get(key)
    assert stored is not None
    assert stored.data == JPEG
    assert store.delete_many([key]) == 1


def test_the_services_user_is_refused_another_bucket(accounts: Accounts) -> None:
    s3 = accounts.s3(accounts.services)
    other = accounts.other_bucket
    refused(lambda: s3.put_object(other, "x.jpg", io.BytesIO(JPEG), len(JPEG)))
    refused(lambda: s3.get_object(other, "x.jpg"))
    refused(lambda: list(s3.list_objects(other)))


def test_the_services_user_cannot_make_buckets(accounts: Accounts) -> None:
    settings = accounts.settings_of(accounts.services).object_store
    missing = settings.model_copy(update={"bucket": f"{accounts.bucket}-missing"})
    with pytest.raises(ClientError) as refusal:
        ensure_bucket(missing)
    assert refusal.value.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403
    root = Account(
        accounts.root.access_key.get_secret_value(), accounts.root.secret_key.get_secret_value()
    )
    assert not accounts.s3(root).bucket_exists(missing.bucket)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda admin: admin.user_list(), id="list users"),
        pytest.param(lambda admin: admin.policy_list(), id="list policies"),
        pytest.param(
            lambda admin: admin.user_add("intruder", secrets.token_hex(20)), id="add user"
        ),
        pytest.param(lambda admin: admin.info(), id="server info"),
    ],
)
def test_the_services_user_is_refused_admin_calls(
    accounts: Accounts, call: Callable[[MinioAdmin], object]
) -> None:
    with pytest.raises(MinioAdminException) as refusal:
        call(accounts.admin(accounts.services))
    assert json.loads(refusal.value._body)["Code"] == "AccessDenied"


# --- an edge user -----------------------------------------------------------------------------


def test_an_edge_puts_under_its_own_prefix(accounts: Accounts) -> None:
    key = f"edge/{accounts.edge.user}/y.jpg"
    accounts.s3(accounts.edge).put_object(accounts.bucket, key, io.BytesIO(JPEG), len(JPEG))

    stored = accounts.s3(accounts.services).get_object(accounts.bucket, key)
    try:
        assert stored.read() == JPEG
    finally:
        stored.close()
        stored.release_conn()


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("edge/{other_camera}/x.jpg", id="another camera's prefix"),
        pytest.param("edge/x.jpg", id="the edge folder itself"),
        pytest.param("2026/01/01/x.jpg", id="outside edge/"),
        pytest.param("edge/{camera}x/x.jpg", id="a prefix its name starts"),
    ],
)
def test_an_edge_is_refused_puts_elsewhere(accounts: Accounts, key: str) -> None:
    name = key.format(camera=accounts.edge.user, other_camera=accounts.other_camera)
    s3 = accounts.s3(accounts.edge)
    refused(lambda: s3.put_object(accounts.bucket, name, io.BytesIO(JPEG), len(JPEG)))


def test_an_edge_is_refused_reads_listings_and_deletes(accounts: Accounts) -> None:
    services = accounts.s3(accounts.services)
    services.put_object(accounts.bucket, "2026/01/01/z.jpg", io.BytesIO(JPEG), len(JPEG))
    own = f"edge/{accounts.edge.user}/z.jpg"
    edge = accounts.s3(accounts.edge)
    edge.put_object(accounts.bucket, own, io.BytesIO(JPEG), len(JPEG))

    refused(lambda: edge.get_object(accounts.bucket, "2026/01/01/z.jpg"))
    refused(lambda: edge.get_object(accounts.bucket, own))  # put only, even its own
    refused(lambda: list(edge.list_objects(accounts.bucket, prefix="edge/", recursive=True)))
    refused(lambda: edge.remove_object(accounts.bucket, own))
    refused(lambda: list(edge.list_objects(accounts.other_bucket)))


def test_an_edge_is_refused_admin_calls(accounts: Accounts) -> None:
    with pytest.raises(MinioAdminException) as refusal:
        accounts.admin(accounts.edge).user_list()
    assert json.loads(refusal.value._body)["Code"] == "AccessDenied"


# --- helpers ----------------------------------------------------------------------------------


def refused(call: Callable[[], object]) -> None:
    with pytest.raises(S3Error) as refusal:
        call()
    assert refusal.value.code == "AccessDenied"


def _admin(root: ObjectStoreSettings, user: str, secret: str) -> MinioAdmin:
    return MinioAdmin(
        endpoint=root.endpoint_url().split("://", 1)[1],
        credentials=StaticProvider(user, secret),
        secure=root.secure,
        region=root.region,
    )
