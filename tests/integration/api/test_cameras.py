"""GET /cameras, and the camera registry's check on POST /events, against real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key
from alpr_core.db.cameras import CameraSpec, set_enabled, upsert_camera
from alpr_core.images.object_store import ObjectImageStore
from tests.integration.api.conftest import Keys, as_key
from tests.integration.api.test_events import ROWS, event, metric, post
from tests.integration.conftest import db_scalar

CAMERAS = [
    CameraSpec("cam-001", "site-1", "Gate", "northbound", 51.5, -0.12),
    CameraSpec("cam-002", "site-1"),
    CameraSpec("cam-101", "site-2", direction="270"),
]


@pytest.fixture
def registered(settings: Settings) -> Settings:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        for spec in CAMERAS:
            upsert_camera(conn, spec)
        set_enabled(conn, "cam-002", enabled=False)
    return settings


def _client(settings: Settings, *, known_only: bool) -> TestClient:
    ingest = settings.ingest.model_copy(update={"known_cameras_only": known_only})
    return TestClient(create_app(settings.model_copy(update={"ingest": ingest})))


@pytest.fixture
def client(registered: Settings, images: ObjectImageStore) -> Iterator[TestClient]:
    with _client(registered, known_only=False) as test_client:
        yield test_client


@pytest.fixture
def strict_client(registered: Settings, images: ObjectImageStore) -> Iterator[TestClient]:
    with _client(registered, known_only=True) as test_client:
        yield test_client


def _ids(response: object) -> list[str]:
    return [item["camera_id"] for item in response.json()["items"]]  # type: ignore[attr-defined]


def test_an_admin_lists_every_camera_and_the_read_is_audited(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    response = client.get("/cameras", headers=as_key(keys.admin))

    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["camera_id"] for item in items] == ["cam-001", "cam-002", "cam-101"]
    assert {k: items[0][k] for k in ("site_id", "name", "direction", "latitude", "enabled")} == {
        "site_id": "site-1",
        "name": "Gate",
        "direction": "northbound",
        "latitude": 51.5,
        "enabled": True,
    }
    assert items[1]["enabled"] is False
    audit = "SELECT count(*) FROM audit_log WHERE path = '/cameras' AND result_count = 3"
    assert db_scalar(settings, audit) == 1


def test_a_scoped_admin_sees_only_its_cameras(client: TestClient, settings: Settings) -> None:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        site_2 = create_key(conn, "site 2 admin", "admin", sites=["site-2"])[1]
        one = create_key(conn, "one camera", "admin", sites=["site-1"], cameras=["cam-002"])[1]

    assert _ids(client.get("/cameras", headers=as_key(site_2))) == ["cam-101"]
    assert _ids(client.get("/cameras", headers=as_key(one))) == ["cam-002"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        pytest.param("viewer", 403, id="viewer"),
        pytest.param("ingest", 403, id="ingest"),
        pytest.param(None, 401, id="no key"),
    ],
)
def test_only_admins_may_list_cameras(
    client: TestClient, keys: Keys, who: str | None, status: int
) -> None:
    headers = as_key(getattr(keys, who)) if who else {}
    response = client.get("/cameras", headers=headers)
    assert response.status_code == status
    assert "items" not in response.json()


def test_with_known_cameras_only_an_unknown_item_is_422_beside_a_stored_one(
    strict_client: TestClient, keys: Keys, settings: Settings
) -> None:
    known, unknown, disabled = (event(camera_id=c) for c in ("cam-001", "cam-999", "cam-002"))

    response = post(strict_client, keys.ingest, [known, unknown, disabled])

    assert response.status_code == 202
    body = response.json()
    assert [a["event_id"] for a in body["accepted"]] == [known["event_id"]]
    rejected = [(r["index"], r["status"], r["reason"]) for r in body["rejected"]]
    assert rejected == [(1, 422, "unknown_camera"), (2, 422, "unknown_camera")]
    assert db_scalar(settings, ROWS) == 1
    line = 'alpr_processing_errors_total{reason="unknown_camera"}'
    assert metric(strict_client, line) == 2


def test_with_known_cameras_only_a_lone_unknown_item_is_a_422_problem(
    strict_client: TestClient, keys: Keys, settings: Settings
) -> None:
    response = post(strict_client, keys.ingest, event(camera_id="cam-999"))

    assert response.status_code == 422
    assert response.json()["rejected"][0]["reason"] == "unknown_camera"
    assert db_scalar(settings, ROWS) == 0


def test_without_the_setting_unknown_cameras_are_stored_under_other(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    response = post(client, keys.ingest, [event(camera_id="cam-001"), event(camera_id="cam-999")])

    assert response.status_code == 202
    assert db_scalar(settings, ROWS) == 2
    assert metric(client, 'alpr_camera_events_total{camera_id="cam-001"}') == 1
    assert metric(client, 'alpr_camera_events_total{camera_id="other"}') == 1
    assert metric(client, 'alpr_camera_events_total{camera_id="cam-999"}') == 0


def test_the_api_exports_the_registry_it_loaded(client: TestClient, keys: Keys) -> None:
    post(client, keys.ingest, event(camera_id="cam-001"))  # a write loads the registry
    exported = client.get("/metrics").text
    name = "alpr_camera_registered_since_timestamp_seconds"
    assert f'{name}{{camera_id="cam-001",enabled="true",site_id="site-1"}}' in exported
    assert f'{name}{{camera_id="cam-002",enabled="false",site_id="site-1"}}' in exported
    assert f'{name}{{camera_id="cam-101",enabled="true",site_id="site-2"}}' in exported
