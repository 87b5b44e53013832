"""MinIO least privilege in docker-compose.yml: only minio and minio-init hold the root
credentials; minio-init creates the policies in docker/minio/policies and the services user
(docs/decisions.md#s3-least-privilege). tests/integration/test_minio_policies.py checks what the
policies allow on a real server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.deploy.compose import ENV_EXAMPLE, REPO, load_compose, read_env_file

POLICIES = REPO / "docker" / "minio" / "policies"
ROOT_HOLDERS = {"minio", "minio-init"}


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def services(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    return dict(load_compose(env)["services"])


def policy(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((POLICIES / f"{name}.json").read_text())
    return document


def test_only_minio_and_minio_init_hold_the_root_credentials(
    services: dict[str, Any], env: dict[str, str]
) -> None:
    root = {env["MINIO_ROOT_USER"], env["MINIO_ROOT_PASSWORD"]}
    holders = {
        name
        for name, service in services.items()
        if root & {str(value) for value in (service.get("environment") or {}).values()}
    }
    assert holders == ROOT_HOLDERS
    assert services["minio"]["environment"]["MINIO_ROOT_USER"] == env["MINIO_ROOT_USER"]


def test_the_services_use_their_own_user(services: dict[str, Any], env: dict[str, str]) -> None:
    app = services["kafka-consumer"]["environment"]
    assert app["MINIO_ACCESS_KEY"] == env["MINIO_ACCESS_KEY"] != env["MINIO_ROOT_USER"]
    assert services["minio-init"]["environment"]["SERVICES_USER"] == env["MINIO_ACCESS_KEY"]


def test_minio_init_creates_the_policies_and_the_services_user(services: dict[str, Any]) -> None:
    init = services["minio-init"]
    script = init["command"][0]
    assert "./docker/minio/policies:/policies:ro" in init["volumes"]
    assert 'mc admin policy create alpr "$name"' in script
    assert 'mc admin user add alpr "$SERVICES_USER" "$SERVICES_SECRET"' in script
    assert 'mc admin policy attach alpr alpr-services --user "$SERVICES_USER"' in script
    assert "for name in alpr-services alpr-edge;" in script


@pytest.mark.parametrize(
    ("name", "resources"),
    [
        pytest.param(
            "alpr-services",
            {
                "s3:ListBucket": ["arn:aws:s3:::alpr-plate-images"],
                "s3:GetObject": ["arn:aws:s3:::alpr-plate-images/*"],
                "s3:PutObject": ["arn:aws:s3:::alpr-plate-images/*"],
                "s3:DeleteObject": ["arn:aws:s3:::alpr-plate-images/*"],
            },
            id="services: the bucket only",
        ),
        pytest.param(
            "alpr-edge",
            {"s3:PutObject": ["arn:aws:s3:::alpr-plate-images/edge/${aws:username}/*"]},
            id="edge: put under its own prefix only",
        ),
    ],
)
def test_policies_allow_exactly(name: str, resources: dict[str, list[str]]) -> None:
    granted: dict[str, list[str]] = {}
    for statement in policy(name)["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            granted.setdefault(action, []).extend(statement["Resource"])
    assert granted == resources


def test_the_bucket_name_appears_only_in_resources() -> None:
    """minio-init replaces every occurrence with MINIO_BUCKET (docker/minio/policies/README.md)."""
    for path in POLICIES.glob("*.json"):
        document = json.loads(path.read_text())
        for statement in document["Statement"]:
            outside = {key: value for key, value in statement.items() if key != "Resource"}
            assert "alpr-plate-images" not in json.dumps(outside), path.name
