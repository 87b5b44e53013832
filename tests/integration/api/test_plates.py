"""/plates, /plates/{id} and /plates/{id}/image against real PostgreSQL and S3."""

from __future__ import annotations

import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key, revoke_key
from alpr_core.events.avro import DecodedEvent
from tests.integration.api.conftest import STORED, Keys, all_pages, as_key


def _all_pages(client: TestClient, token: str, **params: Any) -> list[dict[str, Any]]:
    return all_pages(client, token, "/plates", **params)


def test_list_is_newest_first_with_the_default_limit(client: TestClient, keys: Keys) -> None:
    response = client.get("/plates", headers=as_key(keys.viewer))
    assert response.status_code == 200
    body = response.json()
    assert len(body["items"]) == 50
    assert body["limit"] == 50
    times = [datetime.fromisoformat(item["timestamp"]) for item in body["items"]]
    assert times == sorted(times, reverse=True)
    assert body["next_cursor"]


def test_pages_cover_every_read_once_with_no_gaps(client: TestClient, keys: Keys) -> None:
    items = _all_pages(client, keys.viewer, limit=37)
    ids = [item["id"] for item in items]
    assert len(ids) == STORED
    assert len(set(ids)) == STORED
    keys_in_order = [(datetime.fromisoformat(item["timestamp"]), item["id"]) for item in items]
    assert keys_in_order == sorted(keys_in_order, reverse=True)


def test_filters_apply_together(client: TestClient, keys: Keys, stored: list[DecodedEvent]) -> None:
    events = [d.event for d in stored]
    cutoff = sorted(e.captured_at for e in events)[STORED // 2]
    naive_start = cutoff.astimezone(UTC).replace(tzinfo=None).isoformat()  # naive means UTC
    cams = ["cam-001", "cam-003"]
    items = _all_pages(
        client, keys.viewer, start_time=naive_start, camera_id=cams, min_confidence=0.8
    )
    expected = {
        e.event_id
        for e in events
        if e.captured_at >= cutoff and e.camera_id in ("cam-001", "cam-003") and e.confidence >= 0.8
    }
    assert {item["event_id"] for item in items} == expected
    assert expected  # the filter is not trivially empty

    by_site = _all_pages(client, keys.viewer, site="site-2")
    assert {item["site"] for item in by_site} == {"site-2"}
    assert len(by_site) == sum(e.site == "site-2" for e in events)


@pytest.mark.parametrize("query", ["camera_id=cam-001&camera_id=cam-003", "camera_id=cam-001"])
def test_any_utc_offset_python_accepts_is_a_time_not_a_500(
    client: TestClient, keys: Keys, query: str
) -> None:
    """PostgreSQL refuses offsets past 15:59 in a time's text, which one-shot statements (several
    cameras) carry; the API converts to UTC first, so +16:00 is just a time."""
    start = "2000-01-01T00:00:00%2B16:00"
    response = client.get(f"/plates?{query}&start_time={start}", headers=as_key(keys.viewer))
    assert response.status_code == 200
    assert response.json()["items"]
    search = client.get(
        f"/plates/search?mode=prefix&plate_text=AB&start_time={start}", headers=as_key(keys.viewer)
    )
    assert search.status_code == 200


@pytest.mark.parametrize("mode", ["prefix", "wildcard"])
def test_a_broad_search_ending_in_year_one_is_an_empty_page(
    client: TestClient, keys: Keys, mode: str
) -> None:
    """Its time windows count back from end_time, and they overflowed there (a 500)."""
    response = client.get(
        "/plates/search",
        headers=as_key(keys.viewer),
        params={
            "mode": mode,
            "plate_text": "ABC*" if mode == "wildcard" else "AB",
            "end_time": "0001-01-03T00:00:00",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


def test_the_seed_examples_work_as_written(client: TestClient, keys: Keys) -> None:
    assert len(client.get("/plates?limit=10", headers=as_key(keys.viewer)).json()["items"]) == 10
    today = datetime.now(UTC).date()
    both_days = client.get(
        f"/plates?start_time={today - timedelta(days=1)}T00:00:00&end_time={today}T23:59:59",
        headers=as_key(keys.viewer),
    )
    assert both_days.status_code == 200
    assert both_days.json()["items"]


def test_one_read_in_full(client: TestClient, keys: Keys, stored: list[DecodedEvent]) -> None:
    first = client.get("/plates?limit=1", headers=as_key(keys.viewer)).json()["items"][0]
    detail = client.get(f"/plates/{first['id']}", headers=as_key(keys.viewer)).json()
    event = next(d.event for d in stored if d.event.event_id == detail["event_id"])
    assert detail["plate_text"] == event.plate_text
    assert detail["vehicle"] == {
        "type": event.vehicle.type,
        "make": event.vehicle.make,
        "model": event.vehicle.model,
        "color": event.vehicle.color,
    }
    assert detail["site"] == event.site
    assert detail["host"] == event.host
    assert detail["extras"] == event.extras
    assert detail["images"]["plate_url"] == event.images.plate_url


def test_images_are_served_with_type_etag_and_cache_headers(client: TestClient, keys: Keys) -> None:
    items = _all_pages(client, keys.viewer, limit=500)
    with_image = next(item for item in items if item["image_url"])
    without = next(item for item in items if not item["image_url"])
    response = client.get(with_image["image_url"], headers=as_key(keys.viewer))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content[:3] == b"\xff\xd8\xff"
    assert response.headers["cache-control"] == "private, no-store"
    etag = response.headers["etag"]
    again = client.get(
        with_image["image_url"], headers={**as_key(keys.viewer), "If-None-Match": etag}
    )
    assert again.status_code == 304
    missing = client.get(f"/plates/{without['id']}/image", headers=as_key(keys.viewer))
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_a_key_limited_to_a_site_sees_nothing_else(client: TestClient, keys: Keys) -> None:
    everything = _all_pages(client, keys.viewer, limit=1000)
    visible = _all_pages(client, keys.site_1_only, limit=1000)
    assert {item["site"] for item in visible} == {"site-1"}
    assert len(visible) == sum(item["site"] == "site-1" for item in everything)
    other = next(item for item in everything if item["site"] != "site-1")
    assert client.get(f"/plates/{other['id']}", headers=as_key(keys.site_1_only)).status_code == 404
    image = client.get(f"/plates/{other['id']}/image", headers=as_key(keys.site_1_only))
    assert image.status_code == 404
    asked_for_other = _all_pages(client, keys.site_1_only, site="site-2")
    assert asked_for_other == []


@pytest.mark.parametrize(
    ("path", "headers_of"),
    [
        pytest.param("/plates", lambda k: {}, id="no key"),
        pytest.param("/plates", lambda k: as_key("alpr_not-a-real-key"), id="unknown key"),
        pytest.param("/plates", lambda k: as_key(k.revoked), id="revoked key"),
        pytest.param("/plates/1", lambda k: {}, id="detail, no key"),
        pytest.param("/plates/1/image", lambda k: as_key(k.revoked), id="image, revoked"),
        pytest.param("/plates/search?plate_text=AB12", lambda k: {}, id="search, no key"),
    ],
)
def test_requests_without_a_valid_key_get_401(
    client: TestClient, keys: Keys, path: str, headers_of: Any
) -> None:
    response = client.get(path, headers=headers_of(keys))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401


def test_revoking_a_key_in_use_stops_it_at_once(client: TestClient, settings: Settings) -> None:
    """The API remembers keys it has seen; a revocation must still take effect at once."""
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        key, token = create_key(conn, "soon revoked", "viewer")
        for _ in range(3):  # seen, and so remembered
            assert client.get("/plates?limit=1", headers=as_key(token)).status_code == 200
        revoke_key(conn, key.id)
    # The notice crosses one local connection, in milliseconds; a request racing it may still
    # pass. Without it the key would stay remembered for API_KEY_CACHE_TTL_S (60 s).
    deadline = time.monotonic() + 2
    status = client.get("/plates?limit=1", headers=as_key(token)).status_code
    while status != 401 and time.monotonic() < deadline:
        status = client.get("/plates?limit=1", headers=as_key(token)).status_code
    assert status == 401


@pytest.mark.parametrize(
    "path", ["/plates", "/plates/1", "/plates/1/image", "/plates/search?plate_text=AB12"]
)
def test_an_ingest_key_cannot_read_plates(client: TestClient, keys: Keys, path: str) -> None:
    response = client.get(path, headers=as_key(keys.ingest))
    assert response.status_code == 403
    assert response.json()["title"] == "Forbidden"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("limit=0", id="limit 0"),
        pytest.param("limit=5000", id="limit over the cap"),
        pytest.param("cursor=garbage", id="bad cursor"),
        pytest.param("start_time=yesterday", id="not a time"),
        pytest.param("start_time=2026-01-02T00:00:00&end_time=2026-01-01T00:00:00", id="reversed"),
        pytest.param("start_time=2020-01-01T00:00:00&end_time=2026-01-01T00:00:00", id="too long"),
        pytest.param("min_confidence=2", id="confidence over 1"),
        pytest.param("start_time=0001-01-01T00:00:00%2B01:00", id="before year 1 in UTC"),
        pytest.param("camera_id=' OR 1=1 --&limit=x", id="injection and a bad limit"),
    ],
)
def test_bad_input_gets_a_422_problem_a_person_can_act_on(
    client: TestClient, keys: Keys, query: str
) -> None:
    response = client.get(f"/plates?{query}", headers=as_key(keys.viewer))
    assert response.status_code == 422
    body = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert body["status"] == 422
    assert body["detail"]


@pytest.mark.parametrize(
    "value", ["' OR '1'='1", "cam-001'; DROP TABLE plate_detections; --", "%", "\\", "ü"]
)
def test_injection_strings_are_just_values(
    client: TestClient, keys: Keys, settings: Settings, value: str
) -> None:
    for name in ("camera_id", "site"):
        response = client.get("/plates", params={name: value}, headers=as_key(keys.viewer))
        assert response.status_code == 200
        assert response.json()["items"] == []
    for mode in ("exact", "prefix", "wildcard", "fuzzy"):
        params = {"plate_text": value + "AB1234", "mode": mode}
        response = client.get("/plates/search", params=params, headers=as_key(keys.viewer))
        assert response.status_code in (200, 422)
    with psycopg.connect(settings.db.conninfo()) as conn:
        count = conn.execute("SELECT count(*) FROM plate_detections").fetchone()
    assert count == (STORED,)


def test_a_missing_read_is_a_404_problem(client: TestClient, keys: Keys) -> None:
    response = client.get("/plates/999999999", headers=as_key(keys.viewer))
    assert response.status_code == 404
    assert response.json()["title"] == "Not found"
    assert client.get("/plates/abc", headers=as_key(keys.viewer)).status_code == 422


def test_every_plate_query_is_audited(client: TestClient, keys: Keys, settings: Settings) -> None:
    client.get("/plates", params={"site": "site-1", "limit": 5}, headers=as_key(keys.viewer))
    client.get("/plates/999999999", headers=as_key(keys.site_1_only))
    with psycopg.connect(settings.db.conninfo()) as conn:
        rows = conn.execute(
            "SELECT key_name, path, params, status, result_count FROM audit_log ORDER BY id"
        ).fetchall()
    assert rows == [
        ("test viewer", "/plates", {"site": ["site-1"], "limit": ["5"]}, 200, 5),
        ("site 1 guard", "/plates/999999999", {}, 404, 0),
    ]


def test_admins_read_the_audit_log_and_nobody_else_does(client: TestClient, keys: Keys) -> None:
    client.get("/plates", params={"limit": 3}, headers=as_key(keys.viewer))
    client.get("/plates/search", params={"plate_text": "AB12"}, headers=as_key(keys.site_1_only))
    assert client.get("/audit", headers=as_key(keys.viewer)).status_code == 403
    assert client.get("/audit").status_code == 401

    log = client.get("/audit", headers=as_key(keys.admin)).json()["items"]
    assert [(e["key_name"], e["path"], e["status"], e["result_count"]) for e in log] == [
        ("", "/audit", 401, None),  # denials are audited too
        ("test viewer", "/audit", 403, None),
        ("site 1 guard", "/plates/search", 200, 0),
        ("test viewer", "/plates", 200, 3),
    ]
    again = client.get("/audit", headers=as_key(keys.admin)).json()["items"]
    assert (again[0]["key_name"], again[0]["path"]) == ("test admin", "/audit")  # reads are logged
    guard_id = next(e["key_id"] for e in log if e["key_name"] == "site 1 guard")
    only_guard = client.get("/audit", params={"key_id": guard_id}, headers=as_key(keys.admin))
    assert {e["key_name"] for e in only_guard.json()["items"]} == {"site 1 guard"}


def test_images_can_be_a_redirect_to_a_short_lived_presigned_url(
    settings: Settings, stored: list[DecodedEvent], keys: Keys
) -> None:
    redirecting = settings.model_copy(
        update={"api": settings.api.model_copy(update={"image_redirect": True})}
    )
    with TestClient(create_app(redirecting)) as client:
        items = _all_pages(client, keys.viewer, limit=500)
        with_image = next(item for item in items if item["image_url"])
        response = client.get(
            with_image["image_url"], headers=as_key(keys.viewer), follow_redirects=False
        )
        assert response.status_code == 307
        location = response.headers["location"]
        assert "X-Amz-Signature=" in location
        assert "X-Amz-Expires=300" in location
    with urllib.request.urlopen(location, timeout=10) as image:  # a real GET to S3
        assert image.status == 200
        assert image.read()[:3] == b"\xff\xd8\xff"
