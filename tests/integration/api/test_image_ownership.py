"""A read serves only its own image: replays never replace a stored crop, and a plate_url may
name only the read's own edge upload (real PostgreSQL and MinIO, through POST /events)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key
from alpr_core.images.object_store import ObjectImageStore
from tests.integration.api.conftest import Keys, as_key
from tests.integration.api.test_events import event, post, with_image
from tests.integration.conftest import db_scalar
from tests.unit.factories import image_bytes

ROWS = "SELECT count(*) FROM plate_detections"


@pytest.fixture
def client(settings: Settings, images: ObjectImageStore) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _plate_id(settings: Settings, event_id: str) -> int:
    return db_scalar(settings, f"SELECT id FROM plate_detections WHERE event_id = '{event_id}'")


def _image(client: TestClient, keys: Keys, plate_id: int) -> Any:
    return client.get(f"/plates/{plate_id}/image", headers=as_key(keys.viewer))


def _bucket_url(settings: Settings, key: str) -> str:
    return f"s3://{settings.object_store.bucket}/{key}"


def test_a_replay_with_another_image_never_replaces_the_stored_crop(
    client: TestClient, keys: Keys, settings: Settings, images: ObjectImageStore
) -> None:
    first = with_image(image_bytes("JPEG", (40, 12)))
    assert post(client, keys.ingest, first).json()["stored"] == 1
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        other_site = create_key(conn, "site 2 edge", "ingest", sites=["site-2"])[1]
    replay_jpeg = with_image(image_bytes("JPEG", (90, 30)))
    replay_png = with_image(image_bytes("PNG", (40, 12)))
    for replay in (replay_jpeg, replay_png):
        replay.update(event_id=first["event_id"], captured_at=first["captured_at"])
        replay["node"] = {"site": "site-2", "host": "elsewhere"}
        assert post(client, other_site, replay).json()["duplicates"] == 1
    replay_own_key = with_image(image_bytes("JPEG", (90, 30)))
    replay_own_key.update(event_id=first["event_id"], captured_at=first["captured_at"])
    assert post(client, keys.ingest, replay_own_key).json()["duplicates"] == 1

    served = _image(client, keys, _plate_id(settings, first["event_id"]))
    assert served.content == image_bytes("JPEG", (40, 12))
    assert db_scalar(settings, ROWS) == 1
    assert images.count() == 1  # the PNG replay's object went again: no orphan


def test_a_plate_url_naming_another_reads_object_is_rejected(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    owner = with_image()
    post(client, keys.ingest, owner)
    owner_key = db_scalar_text(settings, owner["event_id"])
    own_upload = event()
    own_upload["images"] = {"plate_url": _bucket_url(settings, "edge/cam-001/2026/own.jpg")}
    borrowers = [event(), event(), event(), event()]
    urls = [
        _bucket_url(settings, owner_key),  # the crop the service stored for another read
        _bucket_url(settings, "edge/cam-002/2026/theirs.jpg"),  # another camera's upload
        _bucket_url(settings, "edge/cam-001/../cam-002/theirs.jpg"),
        _bucket_url(settings, "2026/11/28/anything.jpg"),
    ]
    for borrower, url in zip(borrowers, urls, strict=True):
        borrower["images"] = {"plate_url": url}

    response = post(client, keys.ingest, [own_upload, *borrowers])

    assert response.status_code == 202, response.text
    body = response.json()
    assert [item["event_id"] for item in body["accepted"]] == [own_upload["event_id"]]
    assert {item["reason"] for item in body["rejected"]} == {"image_not_owned"}
    assert [item["index"] for item in body["rejected"]] == [1, 2, 3, 4]
    assert db_scalar(settings, ROWS) == 2


def test_rows_that_name_foreign_objects_are_never_served_them(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    """Rows stored before the check (or written by hand) cannot borrow a crop either."""
    owner = with_image()
    post(client, keys.ingest, owner)
    owner_key = db_scalar_text(settings, owner["event_id"])
    borrower = event()
    post(client, keys.ingest, borrower)
    for url, status in [
        (_bucket_url(settings, owner_key), 404),
        (_bucket_url(settings, "edge/cam-001/../x.jpg"), 404),
    ]:
        with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
            conn.execute(
                "UPDATE plate_detections SET plate_url = %s WHERE event_id = %s",
                (url, borrower["event_id"]),
            )
        plate_id = _plate_id(settings, borrower["event_id"])
        assert _image(client, keys, plate_id).status_code == status
        listed = client.get("/plates", headers=as_key(keys.viewer)).json()["items"]
        assert {item["id"]: item["image_url"] for item in listed}[plate_id] is None


def db_scalar_text(settings: Settings, event_id: str) -> str:
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute(
            "SELECT image_object_key FROM plate_detections WHERE event_id = %s", (event_id,)
        ).fetchone()
    assert row is not None
    assert row[0]
    return str(row[0])


def test_a_replay_in_the_same_batch_never_replaces_the_first_image(
    client: TestClient, keys: Keys, settings: Settings, images: ObjectImageStore
) -> None:
    first = with_image(image_bytes("JPEG", (40, 12)))
    replays = [with_image(image_bytes("JPEG", (90 + n, 30))) for n in range(8)]
    for replay in replays:
        replay.update(event_id=first["event_id"], captured_at=first["captured_at"])

    body = post(client, keys.ingest, [first, *replays]).json()

    assert (body["stored"], body["duplicates"]) == (1, 8)
    served = _image(client, keys, _plate_id(settings, first["event_id"]))
    assert served.content == image_bytes("JPEG", (40, 12))
    assert images.count() == 1
