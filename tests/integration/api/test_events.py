"""POST /events against real PostgreSQL, MinIO and the schema registry."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from fastapi.testclient import TestClient

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key
from alpr_core.events.avro import DecodedEvent, schema_text
from alpr_core.images.object_store import ObjectImageStore
from alpr_core.simulator.events import SimulatedRead
from tests.integration.api.conftest import Keys, as_key
from tests.integration.conftest import db_scalar
from tests.unit.events.frames import png_header
from tests.unit.factories import image_bytes, record

ROWS = "SELECT count(*) FROM plate_detections"
PROBLEM = "application/problem+json"


def event(**changes: Any) -> dict[str, Any]:
    """A valid JSON PlateEvent, new each call, captured a minute ago."""
    captured = datetime.now(UTC) - timedelta(minutes=1)
    base = record(event_id=str(uuid.uuid4()), captured_at=captured.isoformat())
    return {**base, **changes}


def with_image(image: bytes | None = None, **changes: Any) -> dict[str, Any]:
    data = image if image is not None else image_bytes()
    return event(plate_image=base64.b64encode(data).decode(), **changes)


def app_settings(settings: Settings, **api: Any) -> Settings:
    return settings.model_copy(update={"api": settings.api.model_copy(update=api)})


@pytest.fixture
def client(settings: Settings, images: ObjectImageStore) -> Iterator[TestClient]:
    """The API over an empty database and bucket."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def post(client: TestClient, token: str, body: Any) -> Any:
    return client.post("/events", json=body, headers=as_key(token))


def metric(client: TestClient, line_start: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.split()[-1])
    return 0.0


def test_one_json_event_is_stored(client: TestClient, keys: Keys, settings: Settings) -> None:
    sent = event()
    response = post(client, keys.ingest, sent)

    assert response.status_code == 202
    assert response.json() == {
        "accepted": [{"index": 0, "event_id": sent["event_id"]}],
        "rejected": [],
        "stored": 1,
        "duplicates": 0,
    }
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute(
            "SELECT plate_text, camera_id, site, schema_id FROM plate_detections"
            " WHERE event_id = %s",
            (sent["event_id"],),
        ).fetchone()
    assert row == ("AB12 CDE", "cam-001", "site-1", None)
    assert metric(client, "alpr_database_writes_total") == 1


def test_a_batch_stores_the_good_items_and_reports_each_bad_one(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    good = [event(), with_image(), event(camera_id="cam-002")]
    bad_confidence = event(plate={"text": "X1", "normalized_text": "X1", "confidence": 7})
    no_vehicle = event()
    del no_vehicle["vehicle"]
    batch = [good[0], bad_confidence, good[1], 42, no_vehicle, with_image(b"not an image"), good[2]]

    response = post(client, keys.ingest, batch)

    assert response.status_code == 202
    body = response.json()
    assert [(a["index"], a["event_id"]) for a in body["accepted"]] == [
        (0, good[0]["event_id"]),
        (2, good[1]["event_id"]),
        (6, good[2]["event_id"]),
    ]
    rejected = {r["index"]: r for r in body["rejected"]}
    assert {i: r["reason"] for i, r in rejected.items()} == {
        1: "invalid_confidence",
        3: "undecodable",
        4: "missing_field",
        5: "invalid_image",
    }
    assert rejected[1]["event_id"] == bad_confidence["event_id"]
    assert rejected[3]["event_id"] is None
    assert rejected[4]["detail"] == "PlateEvent.vehicle must be Vehicle"
    assert all(r["status"] == 422 and r["type"] == "about:blank" for r in rejected.values())
    assert (body["stored"], body["duplicates"]) == (3, 0)
    assert db_scalar(settings, ROWS) == 3
    assert metric(client, 'alpr_processing_errors_total{reason="invalid_confidence"}') == 1
    # per camera, for the camera-silent alert
    assert metric(client, 'alpr_camera_events_total{camera_id="cam-002"}') == 1
    assert metric(client, 'alpr_camera_last_event_timestamp_seconds{camera_id="cam-002"}') > 0
    assert metric(client, "alpr_http_events_received_total") == 7


def test_a_replayed_batch_stores_nothing_twice(
    client: TestClient, keys: Keys, settings: Settings, images: ObjectImageStore
) -> None:
    batch = [with_image() for _ in range(5)] + [event() for _ in range(5)]
    first = post(client, keys.ingest, batch)
    assert first.json()["stored"] == 10

    replay = post(client, keys.ingest, batch)

    assert replay.status_code == 202
    assert (replay.json()["stored"], replay.json()["duplicates"]) == (0, 10)
    assert len(replay.json()["accepted"]) == 10
    assert db_scalar(settings, ROWS) == 10
    assert db_scalar(settings, "SELECT count(DISTINCT event_id) FROM plate_detections") == 10
    assert images.count() == 5
    assert metric(client, "alpr_duplicate_events_total") == 10


def _avro(settings: Settings, sent: dict[str, Any]) -> bytes:
    """Serialized as edges do: confluent-kafka's AvroSerializer against the real registry."""
    registry = SchemaRegistryClient({"url": settings.registry.url})
    serializer = AvroSerializer(registry, schema_text(2), conf={"auto.register.schemas": True})
    value: bytes = serializer(sent, SerializationContext(settings.kafka.topic, MessageField.VALUE))
    return value


@pytest.mark.parametrize("content_type", ["avro/binary", "application/octet-stream"])
def test_one_avro_message_in_the_confluent_wire_format_is_stored(
    client: TestClient, keys: Keys, settings: Settings, content_type: str
) -> None:
    sent = {**record(), **with_image()}
    sent["plate_image"] = image_bytes("PNG")
    response = client.post(
        "/events",
        content=_avro(settings, sent),
        headers={**as_key(keys.ingest), "Content-Type": content_type},
    )

    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == [{"index": 0, "event_id": sent["event_id"]}]
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute(
            "SELECT schema_id, image_content_type FROM plate_detections WHERE event_id = %s",
            (sent["event_id"],),
        ).fetchone()
    assert row is not None
    assert row[0] is not None
    assert row[1] == "image/png"


def test_a_batch_mixes_json_events_and_base64_avro_messages(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    avro_events = [event() for _ in range(3)]
    encoded = [base64.b64encode(_avro(settings, e)).decode() for e in avro_events]
    json_event = event()
    unknown_schema = base64.b64encode(b"\x00\x7f\xff\xff\xf0" + b"\x02").decode()

    response = post(client, keys.ingest, [*encoded, json_event, unknown_schema, "%%%"])

    assert response.status_code == 202
    body = response.json()
    assert [a["event_id"] for a in body["accepted"]] == [
        *(e["event_id"] for e in avro_events),
        json_event["event_id"],
    ]
    assert [(r["index"], r["reason"]) for r in body["rejected"]] == [
        (4, "unknown_schema"),
        (5, "undecodable"),
    ]
    assert db_scalar(settings, ROWS) == 4
    assert db_scalar(settings, f"{ROWS} WHERE schema_id IS NOT NULL") == 3


def test_a_multipart_event_with_its_image_is_stored_and_served(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    sent = event()
    jpeg = image_bytes("JPEG", (80, 24))
    response = client.post(
        "/events",
        data={"event": json.dumps(sent)},
        files={"image": ("plate.jpg", jpeg, "image/jpeg")},
        headers=as_key(keys.ingest),
    )

    assert response.status_code == 202, response.text
    plate_id = db_scalar(
        settings, f"SELECT id FROM plate_detections WHERE event_id = '{sent['event_id']}'"
    )
    image = client.get(f"/plates/{plate_id}/image", headers=as_key(keys.viewer))
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/jpeg"
    assert image.content == jpeg


def _multipart(parts: str) -> tuple[bytes, str]:
    return parts.replace("\n", "\r\n").encode(), "multipart/form-data; boundary=XyZ"


_NO_EVENT_PART = _multipart('--XyZ\nContent-Disposition: form-data; name="other"\n\nx\n--XyZ--\n')


@pytest.mark.parametrize(
    ("content", "content_type", "status", "title"),
    [
        pytest.param(b'{"event_id": ', "application/json", 400, "Malformed JSON", id="bad json"),
        pytest.param(b"\xff\xfe", "application/json", 400, "Malformed JSON", id="not utf-8"),
        pytest.param(b"[" * 60_000, "application/json", 400, "Malformed JSON", id="deep json"),
        pytest.param(b"[]", "application/json", 422, "No events", id="empty array"),
        pytest.param(b'"text"', "application/json", 422, "No events", id="json scalar"),
        pytest.param(b"", "avro/binary", 422, "No events", id="empty avro"),
        pytest.param(b"{}", "text/plain", 415, "Unsupported media type", id="text"),
        pytest.param(b"{}", None, 415, "Unsupported media type", id="no content type"),
        pytest.param(b"x" * 70_000, "application/json", 413, "Body too large", id="too large"),
        pytest.param(
            json.dumps([{}] * 11).encode(),
            "application/json",
            413,
            "Too many events",
            id="too many events",
        ),
        pytest.param(
            b"--XyZ\n",
            "multipart/form-data",
            400,
            "Malformed multipart body",
            id="multipart without boundary",
        ),
        pytest.param(*_NO_EVENT_PART, 422, "No events", id="multipart without event"),
        pytest.param(
            json.dumps([{}, 1]).encode(),
            "application/json",
            422,
            "No event accepted",
            id="every item bad",
        ),
        pytest.param(
            b"\x00\x00\x00\x00\x01garbage",
            "avro/binary",
            422,
            "No event accepted",
            id="avro garbage",
        ),
    ],
)
def test_bad_requests_get_a_problem_and_store_nothing(
    settings: Settings,
    images: ObjectImageStore,
    keys: Keys,
    content: bytes,
    content_type: str | None,
    status: int,
    title: str,
) -> None:
    small = app_settings(settings, ingest_max_body_bytes=65_536, ingest_max_events=10)
    headers = as_key(keys.ingest) | ({"Content-Type": content_type} if content_type else {})
    with TestClient(create_app(small)) as client:
        response = client.post("/events", content=content, headers=headers)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["title"] == title
    assert db_scalar(settings, ROWS) == 0


def test_when_no_item_is_good_the_problem_lists_each_one(client: TestClient, keys: Keys) -> None:
    bad = event(camera_id="")
    response = post(client, keys.ingest, [bad, event(latency_ms=-1)])

    assert response.status_code == 422
    rejected = response.json()["rejected"]
    assert [(r["index"], r["reason"]) for r in rejected] == [
        (0, "invalid_field"),
        (1, "invalid_field"),
    ]
    assert rejected[0]["event_id"] == bad["event_id"]


def test_a_415_says_what_is_accepted(client: TestClient, keys: Keys) -> None:
    response = client.post(
        "/events", content=b"x", headers={**as_key(keys.ingest), "Content-Type": "text/csv"}
    )
    assert response.status_code == 415
    assert "application/json" in response.headers["accept-post"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        pytest.param(None, 401, id="no key"),
        pytest.param("revoked", 401, id="revoked key"),
        pytest.param("viewer", 403, id="viewer"),
        pytest.param("admin", 403, id="admin"),
    ],
)
def test_only_ingest_keys_may_post(
    client: TestClient, keys: Keys, settings: Settings, who: str | None, status: int
) -> None:
    headers = as_key(getattr(keys, who)) if who else {}
    response = client.post("/events", json=event(), headers=headers)

    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert db_scalar(settings, ROWS) == 0


def test_a_key_over_its_rate_gets_429_with_retry_after(
    settings: Settings, images: ObjectImageStore, keys: Keys
) -> None:
    slow = app_settings(settings, ingest_rate_per_s=0.1, ingest_burst=3)
    with TestClient(create_app(slow)) as client:
        assert post(client, keys.ingest, [event()] * 4).status_code == 413  # never fits
        assert post(client, keys.ingest, [event(), event()]).status_code == 202
        over = post(client, keys.ingest, [event(), event()])  # 1 token left, 2 asked
        assert over.status_code == 429
        assert over.headers["content-type"] == PROBLEM
        assert int(over.headers["retry-after"]) == 10  # (2 - 1) tokens at 0.1/s
        assert post(client, keys.ingest, event()).status_code == 202
        empty = post(client, keys.ingest, event())  # refused before the body is read
        assert empty.status_code == 429
        assert metric(client, "alpr_http_ingest_throttled_total") == 2
    assert db_scalar(settings, ROWS) == 3


def test_a_camera_scoped_key_may_post_only_for_its_cameras(
    client: TestClient, settings: Settings
) -> None:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        token = create_key(conn, "gate camera", "ingest", cameras=["cam-001"])[1]
    own, other = event(camera_id="cam-001"), event(camera_id="cam-009")

    response = post(client, token, [own, other])

    assert response.status_code == 202
    assert [a["event_id"] for a in response.json()["accepted"]] == [own["event_id"]]
    assert response.json()["rejected"][0]["status"] == 403
    assert response.json()["rejected"][0]["reason"] == "out_of_scope"
    assert db_scalar(settings, ROWS) == 1


def test_reads_already_stored_by_the_kafka_path_are_duplicates_over_http(
    settings: Settings,
    images: ObjectImageStore,
    keys: Keys,
    simulated: list[SimulatedRead],
    stored: list[DecodedEvent],
) -> None:
    """Beside Kafka: the same event arriving both ways is stored once."""
    as_json = [_jsonable(read.record) for read in simulated[:20]]
    before = images.count()
    with TestClient(create_app(settings)) as client:
        response = post(client, keys.ingest, as_json)

    assert response.status_code == 202
    assert (response.json()["stored"], response.json()["duplicates"]) == (0, 20)
    assert db_scalar(settings, ROWS) == len(stored)
    assert images.count() == before


def _jsonable(read: dict[str, Any]) -> dict[str, Any]:
    image = read.get("plate_image")
    return {**read, "plate_image": base64.b64encode(image).decode() if image else None}


@pytest.mark.parametrize(
    ("down", "item"),
    [
        pytest.param("object_store", with_image(), id="S3 down"),
        pytest.param("registry", "AH////8C", id="registry down"),
    ],
)
def test_a_dependency_down_is_a_503_that_stores_nothing(
    settings: Settings, keys: Keys, down: str, item: Any
) -> None:
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    broken: dict[str, Any]
    if down == "object_store":
        broken = {"object_store": settings.object_store.model_copy(update={"endpoint": dead})}
    else:
        broken = {"registry": settings.registry.model_copy(update={"url": dead})}
    with TestClient(create_app(settings.model_copy(update=broken))) as client:
        response = post(client, keys.ingest, [event(), item])

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) > 0
    assert db_scalar(settings, ROWS) == 0


def test_a_bomb_image_and_a_deep_item_are_rejected_alone(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    """A PNG whose header claims 20000x20000 pixels, an item nested 5000 levels and a NUL in
    vehicle.make each used to fail the whole request."""
    good = event()
    bomb = with_image(png_header(20_000, 20_000))
    nul = event(vehicle={"type": None, "make": "Fo\x00rd", "model": None, "color": None})
    body = json.dumps([good, bomb, nul]).encode()
    deep = b'{"deep": ' * 5_000 + b"1" + b"}" * 5_000
    body = body[:-1] + b", " + deep + b"]"

    response = client.post(
        "/events", content=body, headers={**as_key(keys.ingest), "Content-Type": "application/json"}
    )

    assert response.status_code == 202, response.text
    report = response.json()
    assert [a["event_id"] for a in report["accepted"]] == [good["event_id"]]
    assert [(r["index"], r["reason"], r["status"]) for r in report["rejected"]] == [
        (1, "image_too_large", 422),
        (2, "invalid_field", 422),
        (3, "too_deep", 422),
    ]
    assert db_scalar(settings, ROWS) == 1


def test_an_array_over_the_event_cap_is_413(
    settings: Settings, images: ObjectImageStore, keys: Keys
) -> None:
    small = app_settings(settings, ingest_max_events=2)
    with TestClient(create_app(small)) as client:
        response = post(client, keys.ingest, [event(), event(), event()])

    assert response.status_code == 413
    assert response.json()["title"] == "Too many events"
    assert db_scalar(settings, ROWS) == 0


def _borrowing(settings: Settings) -> dict[str, Any]:
    """A valid event whose plate_url names an object in our bucket it does not own."""
    url = f"s3://{settings.object_store.bucket}/plates/someone-else.jpg"
    return event(images={"plate_url": url, "vehicle_url": None, "frame_url": None})


def test_a_row_the_sink_refuses_is_a_rejected_item_never_a_duplicate(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    good, refused = event(), _borrowing(settings)
    response = post(client, keys.ingest, [good, refused])

    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["stored"], body["duplicates"]) == (1, 0)
    assert [item["event_id"] for item in body["accepted"]] == [good["event_id"]]
    assert [(r["index"], r["status"], r["reason"]) for r in body["rejected"]] == [
        (1, 422, "image_not_owned")
    ]
    assert body["rejected"][0]["event_id"] == refused["event_id"]
    assert metric(client, 'alpr_processing_errors_total{reason="image_not_owned"}') == 1
    assert metric(client, "alpr_duplicate_events_total") == 0
    assert db_scalar(settings, ROWS) == 1


def test_when_the_sink_refuses_every_item_the_answer_is_422(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    response = post(client, keys.ingest, [_borrowing(settings), _borrowing(settings)])

    assert response.status_code == 422, response.text
    assert [r["reason"] for r in response.json()["rejected"]] == ["image_not_owned"] * 2
    assert metric(client, "alpr_duplicate_events_total") == 0
    assert db_scalar(settings, ROWS) == 0
