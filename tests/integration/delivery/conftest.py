"""What the delivery tests share: an API that matches reads (plain-HTTP webhooks allowed), a
watchlist key, an ingest key and a list with one entry, AB12CDE."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key
from alpr_core.images.object_store import ObjectImageStore
from alpr_core.jobs.alert_dispatch import AlertDispatcher
from tests.integration.api.alerting import post, read
from tests.integration.api.conftest import as_key
from tests.integration.conftest import db_scalar, wait_until


@pytest.fixture
def app(settings: Settings, images: ObjectImageStore) -> Iterator[TestClient]:
    alert = settings.alert.model_copy(update={"refresh_s": 0, "webhook_allow_http": True})
    with TestClient(create_app(settings.model_copy(update={"alert": alert}))) as client:
        yield client


@dataclass
class Setup:
    keeper: str
    ingest: str
    list_id: str


@pytest.fixture
def setup(settings: Settings, app: TestClient) -> Setup:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        keeper = create_key(conn, "keeper", "watchlist")[1]
        ingest = create_key(conn, "edge", "ingest")[1]
    made = app.post(
        "/watchlists",
        json={"name": "Stolen", "owner": "room", "priority": "critical"},
        headers=as_key(keeper),
    ).json()
    app.post(
        f"/watchlists/{made['id']}/entries",
        json={"plate": "AB12CDE", "reason": "stolen"},
        headers=as_key(keeper),
    )
    return Setup(keeper, ingest, made["id"])


def subscribe(app: TestClient, setup: Setup, url: str, **fields: Any) -> tuple[str, str]:
    answer = app.post(
        f"/watchlists/{setup.list_id}/webhooks",
        json={"url": url, **fields},
        headers=as_key(setup.keeper),
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["webhook"]["id"], answer.json()["secret"]


def undelivered(settings: Settings) -> int:
    return db_scalar(settings, "SELECT count(*) FROM alert_deliveries WHERE delivered_at IS NULL")


def post_while_failing(
    job: AlertDispatcher, app: TestClient, setup: Setup, settings: Settings
) -> None:
    """Post a listed read while ``job`` cannot deliver: its delivery fails and waits."""
    job.start()
    try:
        post(app, setup.ingest, read("AB12CDE"))
        wait_until(
            lambda: db_scalar(settings, "SELECT attempts FROM alert_deliveries") >= 1,
            what="a failed attempt",
        )
    finally:
        job.stop()
    assert undelivered(settings) == 1
