"""Who gets in, for how long, and what the audit log shows of it (real PostgreSQL)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import AsyncConnectionPool

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key, rotate_key
from alpr_core.events.avro import DecodedEvent
from tests.integration.api.conftest import Keys, as_key
from tests.integration.conftest import wait_until

CLIENT = ("203.0.113.7", 40000)


def _settings(settings: Settings, **api: Any) -> Settings:
    return settings.model_copy(update={"api": settings.api.model_copy(update=api)})


@pytest.fixture
def client(settings: Settings, stored: list[DecodedEvent]) -> Iterator[TestClient]:
    with TestClient(create_app(settings), client=CLIENT) as test_client:
        yield test_client


def _key(settings: Settings, role: str = "viewer", **options: Any) -> tuple[Any, str]:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        return create_key(conn, f"key {role}", role, **options)  # type: ignore[arg-type]


def _audit_rows(settings: Settings) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.db.conninfo()) as conn:
        return conn.execute(
            "SELECT key_name, path, status, host(client_addr) FROM audit_log ORDER BY id"
        ).fetchall()


def test_an_expired_key_is_refused_and_a_live_one_records_its_last_use(
    client: TestClient, settings: Settings
) -> None:
    live, live_token = _key(settings, expires_in=timedelta(hours=1))
    _expired, expired_token = _key(settings, expires_in=timedelta(seconds=-1))
    assert client.get("/plates", headers=as_key(expired_token)).status_code == 401
    assert client.get("/plates", headers=as_key(live_token)).status_code == 200
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute("SELECT last_used_at FROM api_keys WHERE id = %s", (live.id,)).fetchone()
    assert row is not None
    assert row[0] is not None


def test_rotation_gives_a_new_key_and_ends_the_old_one(
    client: TestClient, settings: Settings
) -> None:
    old, old_token = _key(settings, sites=["site-1"])
    assert client.get("/plates", headers=as_key(old_token)).status_code == 200  # now cached
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        rotated = rotate_key(conn, old.id, timedelta(0), None)
    assert rotated is not None
    new, new_token = rotated
    assert (new.role, new.sites) == ("viewer", ["site-1"])
    wait_until(
        lambda: client.get("/plates", headers=as_key(old_token)).status_code == 401,
        what="the old key to stop working",
    )
    assert client.get("/plates", headers=as_key(new_token)).status_code == 200


def test_rotation_with_grace_keeps_the_old_key_until_then(settings: Settings) -> None:
    old, _token = _key(settings)
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        assert rotate_key(conn, old.id, timedelta(hours=1), None) is not None
        row = conn.execute(
            "SELECT expires_at - now() > interval '59 minutes', replaced_by IS NOT NULL"
            " FROM api_keys WHERE id = %s",
            (old.id,),
        ).fetchone()
        assert row == (True, True)
        assert rotate_key(conn, old.id, timedelta(0), None) is not None  # still valid: rotates


def test_a_scoped_admin_sees_only_the_audit_rows_of_keys_inside_its_scope(
    client: TestClient, settings: Settings, keys: Keys
) -> None:
    _site_1_admin, site_1_admin = _key(settings, "admin", sites=["site-1"])
    _site_2, site_2 = _key(settings, sites=["site-2"])
    for token in (keys.viewer, keys.site_1_only, site_2):
        client.get("/plates/search", params={"plate_text": "AB12"}, headers=as_key(token))

    seen = client.get("/audit", headers=as_key(site_1_admin)).json()["items"]
    everything = client.get("/audit", headers=as_key(keys.admin)).json()["items"]

    assert {entry["key_name"] for entry in seen} <= {"site 1 guard", "key admin"}
    assert "site 1 guard" in {entry["key_name"] for entry in seen}
    assert {"test viewer", "key viewer"} <= {entry["key_name"] for entry in everything}


def test_denied_requests_are_audited_with_the_client_address(
    client: TestClient, settings: Settings, keys: Keys
) -> None:
    client.get("/plates", headers=as_key("alpr_not-a-key"))
    client.get("/audit", headers=as_key(keys.viewer))
    client.post("/events", json={}, headers=as_key(keys.viewer))

    assert _audit_rows(settings) == [
        ("", "/plates", 401, CLIENT[0]),
        ("test viewer", "/audit", 403, CLIENT[0]),
        ("test viewer", "/events", 403, CLIENT[0]),
    ]


def test_an_address_that_keeps_failing_key_lookups_gets_429(
    settings: Settings, stored: list[DecodedEvent]
) -> None:
    limited = _settings(settings, failed_key_burst=3, failed_key_rate_per_s=0.001)
    with TestClient(create_app(limited), client=CLIENT) as client:
        statuses = [
            client.get("/plates", headers=as_key(f"alpr_guess-{n}")).status_code for n in range(5)
        ]
        assert statuses == [401, 401, 401, 429, 429]
        assert "Retry-After" in client.get("/plates", headers=as_key("alpr_x")).headers
    with TestClient(create_app(limited), client=("198.51.100.3", 1)) as other:
        assert other.get("/plates", headers=as_key("alpr_guess-0")).status_code == 401


def test_a_proxy_forwards_the_client_address_only_when_trusted(
    settings: Settings, stored: list[DecodedEvent]
) -> None:
    behind_proxy = _settings(settings, trusted_proxies=["203.0.113.0/24"])
    forwarded = {"X-Forwarded-For": "192.0.2.44"}
    with TestClient(create_app(behind_proxy), client=CLIENT) as client:
        client.get("/plates", headers=as_key("alpr_nope") | forwarded)
    with TestClient(create_app(settings), client=CLIENT) as client:
        client.get("/plates", headers=as_key("alpr_nope") | forwarded)
    assert [row[3] for row in _audit_rows(settings)] == ["192.0.2.44", CLIENT[0]]


def test_crops_are_not_kept_by_browsers_unless_configured(
    settings: Settings, stored: list[DecodedEvent], keys: Keys
) -> None:
    for api, expected in [
        ({}, "private, no-store"),
        ({"image_max_age_s": 60}, "private, max-age=60"),
    ]:
        with TestClient(create_app(_settings(settings, **api))) as client:
            page = client.get("/plates", params={"limit": 200}, headers=as_key(keys.viewer))
            link = next(item["image_url"] for item in page.json()["items"] if item["image_url"])
            response = client.get(link, headers=as_key(keys.viewer))
            assert response.headers["cache-control"] == expected


def test_readiness_is_checked_at_most_once_per_period(
    settings: Settings, stored: list[DecodedEvent]
) -> None:
    for cache_s, expected in [(3600.0, 200), (0.0, 503)]:
        with TestClient(create_app(_settings(settings, ready_cache_s=cache_s))) as client:
            assert client.get("/ready").status_code == 200
            resources = client.app.state.resources  # type: ignore[attr-defined]
            client.app.state.resources = _with_broken_database(resources)  # type: ignore[attr-defined]
            assert client.get("/ready").status_code == expected
            client.app.state.resources = resources  # type: ignore[attr-defined]


def _with_broken_database(resources: Any) -> Any:
    broken = AsyncConnectionPool("host=127.0.0.1 port=1 connect_timeout=1", open=False)
    return dataclasses.replace(resources, pool=broken)


def test_with_require_purpose_a_search_states_why_and_the_audit_keeps_it(
    settings: Settings, stored: list[DecodedEvent], keys: Keys
) -> None:
    with TestClient(create_app(_settings(settings, require_purpose=True))) as client:
        search = {"plate_text": "AB12", "mode": "prefix"}
        refused = client.get("/plates/search", params=search, headers=as_key(keys.viewer))
        answered = client.get(
            "/plates/search", params=search | {"purpose": "case 17"}, headers=as_key(keys.viewer)
        )
        listed = client.get("/plates", headers=as_key(keys.viewer))
    assert (refused.status_code, answered.status_code, listed.status_code) == (422, 200, 200)
    with psycopg.connect(settings.db.conninfo()) as conn:
        purposes = conn.execute("SELECT purpose FROM audit_log ORDER BY id").fetchall()
    assert purposes == [("case 17",), (None,)]
