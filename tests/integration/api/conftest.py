"""The API over a database filled through the storage path (sink: images, then rows)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key, revoke_key
from alpr_core.events.avro import DecodedEvent
from alpr_core.events.parse import EventLimits, parse_event
from alpr_core.images.object_store import ObjectImageStore, edge_uploads_of
from alpr_core.simulator.events import SimulatedRead, cameras, tracks
from alpr_core.storage.sink import DetectionSink

STORED = 240
PASS_GAP_S = 60
LIMITS = EventLimits(1_048_576, timedelta(days=1), timedelta(days=90))


@dataclass(frozen=True)
class Keys:
    viewer: str
    admin: str
    ingest: str
    site_1_only: str
    revoked: str


@pytest.fixture
def simulated() -> list[SimulatedRead]:
    """240 simulated reads over the last two hours, half with inline images."""
    start = datetime.now(UTC) - timedelta(hours=2)
    return list(islice(tracks(random.Random(77), cameras(6, sites=2), start, 0.5), STORED))


@pytest.fixture
def stored(
    settings: Settings, images: ObjectImageStore, simulated: list[SimulatedRead]
) -> list[DecodedEvent]:
    """The simulated reads, written through the storage sink (images, then rows, passes)."""
    events = [DecodedEvent(parse_event(r.record, LIMITS, datetime.now(UTC)), 1) for r in simulated]
    store(settings, images, events)
    return events


def store(settings: Settings, images: ObjectImageStore, events: list[DecodedEvent]) -> None:
    """``events`` through the storage sink, as the storage service stores them: images, then
    rows, passes and counts."""
    with ConnectionPool(settings.db.conninfo(), min_size=1, max_size=1) as pool:
        sink = DetectionSink(
            pool, images, 8, edge_uploads_of(settings), pass_gap=timedelta(seconds=PASS_GAP_S)
        )
        sink.write(events)
        sink.close()


@pytest.fixture
def keys(settings: Settings) -> Keys:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        tokens = {
            role: create_key(conn, f"test {role}", role)[1]
            for role in ("viewer", "admin", "ingest")
        }
        site_1 = create_key(conn, "site 1 guard", "viewer", sites=["site-1"])[1]
        revoked_key, revoked = create_key(conn, "former", "viewer")
        revoke_key(conn, revoked_key.id)
    return Keys(tokens["viewer"], tokens["admin"], tokens["ingest"], site_1, revoked)


@pytest.fixture
def client(settings: Settings, stored: list[DecodedEvent]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def all_pages(client: TestClient, token: str, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a listing, page after page by ``next_cursor``."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=query, headers=as_key(token))
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def as_key(token: str) -> dict[str, str]:
    return {"X-API-Key": token}


@pytest.fixture
def ingest_token(settings: Settings) -> str:
    """A key of the ingest role."""
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        return create_key(conn, "edge", "ingest")[1]


@pytest.fixture
def alerting_client(settings: Settings, images: ObjectImageStore) -> Iterator[TestClient]:
    """The API over an empty database, reloading the watchlists on every post."""
    fresh = settings.model_copy(
        update={"alert": settings.alert.model_copy(update={"refresh_s": 0})}
    )
    with TestClient(create_app(fresh)) as test_client:
        yield test_client
