"""The browser console's server side on the real servers: sign-in exchanges a key for a session
cookie, pages show what the API answers that key (scopes and audit included), changes need the
session's CSRF token, and a revoked key or an expired session ends at once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key, revoke_key
from alpr_core.events.avro import DecodedEvent
from alpr_core.events.parse import normalize_plate, parse_event
from alpr_core.images.object_store import ObjectImageStore
from alpr_core.simulator.events import SimulatedRead
from tests.integration.api.conftest import LIMITS, Keys, store

COOKIE = "alpr_session"


@pytest.fixture
def console(settings: Settings, stored: list[DecodedEvent]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def sign_in(client: TestClient, token: str) -> str:
    """Sign in with ``token``; the CSRF token of the session, from the page it lands on."""
    answer = client.post("/console/sign-in", data={"api_key": token}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/console/"
    page = client.get("/console/")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def search(client: TestClient, csrf: str, **form: str) -> str:
    answer = client.post("/console/search", data={"csrf": csrf, **form})
    assert answer.status_code == 200, answer.text
    return answer.text


def read_ids(page: str) -> set[int]:
    return {int(found) for found in re.findall(r'href="/console/reads/(\d+)"', page)}


def test_signing_in_sets_a_strict_http_only_session_cookie(console: TestClient, keys: Keys) -> None:
    answer = console.post("/console/sign-in", data={"api_key": keys.viewer}, follow_redirects=False)
    cookie = answer.headers["set-cookie"]
    assert answer.status_code == 303
    assert cookie.startswith(f"{COOKIE}=alprs_")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP here: a Secure cookie would never come back


def test_over_tls_the_cookie_is_secure(settings: Settings, keys: Keys) -> None:
    with TestClient(create_app(settings), base_url="https://console.test") as client:
        answer = client.post(
            "/console/sign-in", data={"api_key": keys.viewer}, follow_redirects=False
        )
    assert "Secure" in answer.headers["set-cookie"]


def test_a_wrong_key_or_another_origin_gets_no_session(console: TestClient, keys: Keys) -> None:
    wrong = console.post("/console/sign-in", data={"api_key": "alpr_not-a-key"})
    assert wrong.status_code == 401
    assert "not valid" in wrong.text
    elsewhere = console.post(
        "/console/sign-in",
        data={"api_key": keys.viewer},
        headers={"Origin": "https://evil.example"},
    )
    assert elsewhere.status_code == 403
    revoked = console.post("/console/sign-in", data={"api_key": keys.revoked})
    assert revoked.status_code == 401
    assert COOKIE not in console.cookies
    assert console.get("/console/", follow_redirects=False).headers["location"] == (
        "/console/sign-in"
    )


def test_a_search_finds_a_read_stored_moments_before_with_its_crop(
    console: TestClient,
    settings: Settings,
    images: ObjectImageStore,
    simulated: list[SimulatedRead],
    keys: Keys,
) -> None:
    csrf = sign_in(console, keys.viewer)
    record = dict(simulated[0].record)
    assert record["plate_image"]
    record |= {"event_id": "6f1c1f64-55c4-4d3c-8b8e-3f8f6b8a9e01", "captured_at": _now()}
    record["plate"] = {**record["plate"], "text": "CN 51 XYZ", "normalized_text": "CN51XYZ"}
    record["images"] = {**record["images"], "plate_url": None}  # its own crop, inline
    store(settings, images, [DecodedEvent(parse_event(record, LIMITS, datetime.now(UTC)), 1)])
    page = search(console, csrf, plate_text="cn51xyz", mode="exact")
    ids = read_ids(page)
    assert len(ids) == 1
    assert "CN 51 XYZ" in page
    (read_id,) = ids
    detail = console.get(f"/console/reads/{read_id}")
    assert detail.status_code == 200
    assert normalize_plate("CN 51 XYZ") in detail.text
    assert "Its pass: 1 read of" in detail.text  # a new vehicle: a pass of its own
    crop = re.search(r'src="(/plates/\d+/image)"', detail.text)
    assert crop is not None
    image = console.get(crop.group(1))
    assert image.status_code == 200
    assert image.headers["content-type"].startswith("image/")


def test_every_search_mode_and_more_pages_by_cursor(
    console: TestClient, stored: list[DecodedEvent], keys: Keys
) -> None:
    csrf = sign_in(console, keys.viewer)
    plate = stored[0].event.plate_normalized
    for mode, term in [
        ("exact", plate),
        ("prefix", plate[:4]),
        ("wildcard", plate[:3] + "*"),
        ("fuzzy", plate),
    ]:
        page = search(console, csrf, plate_text=term, mode=mode)
        assert read_ids(page), mode
    first = search(console, csrf)  # no plate: the newest reads, 50 a page
    cursor = re.search(r'name="cursor" value="([^"]+)"', first)
    assert cursor is not None
    second = search(console, csrf, cursor=cursor.group(1))
    assert len(read_ids(first)) == 50
    assert read_ids(second)
    assert not read_ids(first) & read_ids(second)


def test_every_filter_of_the_api_narrows_the_search(
    console: TestClient, stored: list[DecodedEvent], keys: Keys
) -> None:
    csrf = sign_in(console, keys.viewer)
    event = stored[0].event
    narrowed = search(
        console,
        csrf,
        camera_id=event.camera_id,
        site=event.site or "",
        vehicle_type=event.vehicle.type or "",
        vehicle_color=event.vehicle.color or "",
        min_confidence="0.5",
        start_time=(event.captured_at - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S"),
        end_time=(event.captured_at + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S"),
    )
    ids = read_ids(narrowed)
    assert ids
    for read_id in ids:
        read = console.get(f"/plates/{read_id}").json()
        assert (read["camera_id"], read["vehicle"]["type"], read["vehicle"]["color"]) == (
            event.camera_id,
            event.vehicle.type,
            event.vehicle.color,
        )
        assert read["confidence"] >= 0.5
    refused = console.post("/console/search", data={"csrf": csrf, "min_confidence": "2"})
    assert refused.status_code == 422  # the API's own check, shown on the page
    assert 'class="error"' in refused.text


def test_a_site_key_sees_only_its_sites_reads(
    console: TestClient, stored: list[DecodedEvent], keys: Keys
) -> None:
    csrf = sign_in(console, keys.site_1_only)
    ids = read_ids(search(console, csrf))
    sites = {e.event.site for e in stored}
    assert sites == {"site-1", "site-2"}
    assert ids
    with_ids = _sites_of(console, ids)
    assert with_ids == {"site-1"}
    elsewhere = next(e for e in stored if e.event.site == "site-2")
    hidden = search(console, csrf, plate_text=elsewhere.event.plate_normalized, mode="exact")
    assert all(site == "site-1" for site in _sites_of(console, read_ids(hidden)))


def test_changes_need_the_session_csrf_token(
    console: TestClient, settings: Settings, stored: list[DecodedEvent]
) -> None:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        analyst = create_key(conn, "console analyst", "analyst")[1]
    csrf = sign_in(console, analyst)
    refused = console.post("/console/search", data={"csrf": "forged"})
    assert refused.status_code == 403
    read_id = min(read_ids(search(console, csrf)))
    tag = {"tag": "stolen"}
    assert console.post(f"/plates/{read_id}/tags", json=tag).status_code == 403
    wrong = console.post(f"/plates/{read_id}/tags", json=tag, headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    tagged = console.post(f"/plates/{read_id}/tags", json=tag, headers={"X-CSRF-Token": csrf})
    assert tagged.status_code in (200, 201), tagged.text


def test_revoking_the_key_or_expiring_the_session_ends_it_at_once(
    console: TestClient, settings: Settings, stored: list[DecodedEvent]
) -> None:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        key, token = create_key(conn, "console viewer", "viewer")
    sign_in(console, token)
    assert console.get("/plates").status_code == 200  # the API takes the session too
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        revoke_key(conn, key.id)
    assert console.get("/plates").status_code == 401
    assert console.get("/console/", follow_redirects=False).status_code == 303
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        _key, other = create_key(conn, "console viewer 2", "viewer")
    sign_in(console, other)
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        conn.execute("UPDATE console_sessions SET expires_at = now() - interval '1 second'")
    assert console.get("/console/", follow_redirects=False).headers["location"] == (
        "/console/sign-in"
    )


def test_signing_out_ends_the_session(console: TestClient, keys: Keys) -> None:
    csrf = sign_in(console, keys.viewer)
    session = console.cookies[COOKIE]
    answer = console.post("/console/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 303
    console.cookies.set(COOKIE, session)  # a copy kept by someone else is worth nothing now
    assert console.get("/plates").status_code == 401


def test_console_searches_are_audited_as_the_key_and_keep_plates_out_of_urls(
    console: TestClient, settings: Settings, stored: list[DecodedEvent], keys: Keys
) -> None:
    csrf = sign_in(console, keys.viewer)
    plate = stored[0].event.plate_normalized
    page = search(console, csrf, plate_text=plate, mode="exact", purpose="case 9")
    urls = re.findall(r'(?:href|src|action)="([^"]*)"', page)
    assert urls
    assert not [url for url in urls if plate in url.upper().replace(" ", "")]
    with psycopg.connect(settings.db.conninfo()) as conn:
        rows = conn.execute(
            "SELECT key_name, path, params->'plate_text'->>0, purpose FROM audit_log"
            " WHERE path = '/plates/search'"
        ).fetchall()
    assert rows == [("test viewer", "/plates/search", plate, "case 9")]


def test_the_history_of_a_plate_counts_its_passes_where_they_were_seen(
    console: TestClient, settings: Settings, stored: list[DecodedEvent], keys: Keys
) -> None:
    csrf = sign_in(console, keys.viewer)
    plate, *passes = busiest_plate(settings)
    answer = console.post(
        "/console/history", data={"csrf": csrf, "plate_text": plate, "purpose": "case 12"}
    )
    assert answer.status_code == 200, answer.text
    seen = re.search(r"Seen (\d+) times?", answer.text)
    assert seen is not None
    assert int(seen.group(1)) == passes[0]
    assert f"<td>{passes[1]}</td>" in answer.text
    assert read_ids(answer.text)  # the latest passes link to their best reads
    empty = console.post("/console/history", data={"csrf": csrf, "plate_text": ""})
    assert empty.status_code == 422
    forged = console.post("/console/history", data={"csrf": "x", "plate_text": plate})
    assert forged.status_code == 403
    with psycopg.connect(settings.db.conninfo()) as conn:
        audited = conn.execute(
            "SELECT key_name, purpose FROM audit_log WHERE path = '/plates/history'"
        ).fetchall()
    assert audited == [("test viewer", "case 12")]


def test_admins_read_the_audit_log_and_viewers_are_refused(
    console: TestClient, stored: list[DecodedEvent], keys: Keys
) -> None:
    csrf = sign_in(console, keys.viewer)
    assert 'href="/console/audit"' not in console.get("/console/").text
    search(console, csrf, plate_text=stored[0].event.plate_normalized, purpose="case 31")
    refused = console.get("/console/audit")
    assert refused.status_code == 403
    assert "Only admin keys may read the audit log" in refused.text
    console.cookies.clear()
    sign_in(console, keys.admin)
    assert 'href="/console/audit"' in console.get("/console/").text
    log = console.get("/console/audit")
    assert log.status_code == 200
    rows = re.findall(r"<tr>\s*<td><time[^>]*>[^<]*</time></td>\s*<td>([^<]*)</td>", log.text)
    assert "test viewer" in rows
    assert "case 31" in log.text


def test_pages_forbid_framing_and_inline_scripts(console: TestClient, keys: Keys) -> None:
    sign_in(console, keys.viewer)
    page = console.get("/console/")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text


def test_with_the_console_off_there_are_no_pages_and_sessions_open_nothing(
    settings: Settings, stored: list[DecodedEvent], keys: Keys
) -> None:
    off = settings.model_copy(update={"api": settings.api.model_copy(update={"console": False})})
    with TestClient(create_app(settings)) as on_client:
        sign_in(on_client, keys.viewer)
        session = on_client.cookies[COOKIE]
    with TestClient(create_app(off)) as client:
        assert client.get("/console/").status_code == 404
        client.cookies.set(COOKIE, session)
        assert client.get("/plates").status_code == 401


def busiest_plate(settings: Settings) -> tuple[str, int, str]:
    """The plate with the most passes: (plate, its passes, the first of its cameras)."""
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute(
            "SELECT plate_normalized, count(*), min(camera_id) FROM passes"
            " GROUP BY plate_normalized ORDER BY count(*) DESC, plate_normalized LIMIT 1"
        ).fetchone()
    assert row is not None
    return str(row[0]), int(row[1]), str(row[2])


def _sites_of(client: TestClient, ids: set[int]) -> set[str | None]:
    sites = set()
    for read_id in ids:
        detail = client.get(f"/plates/{read_id}")
        assert detail.status_code == 200
        sites.add(detail.json()["site"])
    return sites


def _now() -> str:
    return datetime.now(UTC).isoformat()
