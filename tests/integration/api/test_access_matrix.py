"""Every operation against every role, in and out of scope: the expected status, always.

The operations come from the app's own OpenAPI document, so a new route without a rule here
fails ``test_every_operation_has_a_rule``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.db.api_keys import ROLES as KEY_ROLES
from alpr_core.db.api_keys import create_key
from alpr_core.db.cameras import CameraSpec, upsert_camera
from alpr_core.events.avro import DecodedEvent
from tests.integration.api.conftest import as_key
from tests.integration.api.test_events import event

ROLES = ("none", *KEY_ROLES)
OPEN = frozenset(ROLES)
READERS = frozenset({"viewer", "analyst", "admin"})
ANALYSTS = frozenset({"analyst", "admin"})
LIST_KEEPERS = frozenset({"admin", "watchlist"})


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    ok: int  # the status of an allowed role inside its scope
    out_of_scope: int | None  # the status of an allowed, site-1-scoped key asking for site-2


RULES: dict[tuple[str, str], Rule] = {
    ("get", "/health"): Rule(OPEN, 200, None),
    ("get", "/ready"): Rule(OPEN, 200, None),
    ("get", "/metrics"): Rule(OPEN, 200, None),
    ("get", "/plates"): Rule(READERS, 200, 200),  # 200 with no site-2 reads (checked below)
    ("get", "/plates/search"): Rule(READERS, 200, 200),
    ("get", "/plates/stream"): Rule(READERS, 200, 200),  # ends after API_ALERT_STREAM_MAX_S
    ("get", "/plates/history"): Rule(READERS, 200, 200),  # 200 with no site-2 passes
    ("get", "/passes"): Rule(READERS, 200, 200),  # 200 with no site-2 passes
    ("get", "/convoy"): Rule(READERS, 200, 200),  # 200 with no site-2 evidence
    ("get", "/stakeout"): Rule(READERS, 200, 200),  # 200 with no site-2 plates
    ("get", "/stats"): Rule(READERS, 200, 200),  # 200 with no site-2 counts
    ("get", "/stats/cameras"): Rule(READERS, 200, 200),  # 200 with no site-2 cameras
    ("get", "/stats/plates"): Rule(READERS, 200, 200),  # 200 with no site-2 plates
    ("get", "/plates/{plate_id}"): Rule(READERS, 200, 404),
    ("get", "/plates/{plate_id}/image"): Rule(READERS, 200, 404),
    ("get", "/plates/{plate_id}/pass"): Rule(READERS, 200, 404),
    ("post", "/plates/{plate_id}/corrections"): Rule(ANALYSTS, 201, 404),
    ("post", "/plates/{plate_id}/tags"): Rule(ANALYSTS, 201, 404),
    ("delete", "/plates/{plate_id}/tags/{tag}"): Rule(ANALYSTS, 204, 404),
    ("post", "/plates/{plate_id}/notes"): Rule(ANALYSTS, 201, 404),
    ("get", "/audit"): Rule(frozenset({"admin"}), 200, 200),
    ("get", "/cameras"): Rule(frozenset({"admin"}), 200, 200),  # 200 with no site-2 cameras
    ("post", "/events"): Rule(frozenset({"ingest"}), 202, 422),  # every item out of scope
    ("get", "/watchlists"): Rule(LIST_KEEPERS, 200, 200),  # 200 with no site-2 lists
    ("post", "/watchlists"): Rule(LIST_KEEPERS, 201, 403),
    ("get", "/watchlists/{watchlist_id}"): Rule(LIST_KEEPERS, 200, 404),
    ("patch", "/watchlists/{watchlist_id}"): Rule(LIST_KEEPERS, 200, 404),
    ("delete", "/watchlists/{watchlist_id}"): Rule(LIST_KEEPERS, 204, 404),
    ("get", "/watchlists/{watchlist_id}/entries"): Rule(LIST_KEEPERS, 200, 404),
    ("post", "/watchlists/{watchlist_id}/entries"): Rule(LIST_KEEPERS, 201, 404),
    ("put", "/watchlists/{watchlist_id}/entries/{entry_id}"): Rule(LIST_KEEPERS, 200, 404),
    ("delete", "/watchlists/{watchlist_id}/entries/{entry_id}"): Rule(LIST_KEEPERS, 204, 404),
    ("get", "/watchlists/{watchlist_id}/entries.csv"): Rule(LIST_KEEPERS, 200, 404),
    ("post", "/watchlists/{watchlist_id}/entries.csv"): Rule(LIST_KEEPERS, 200, 404),
    ("get", "/watchlists/{watchlist_id}/webhooks"): Rule(LIST_KEEPERS, 200, 404),
    ("post", "/watchlists/{watchlist_id}/webhooks"): Rule(LIST_KEEPERS, 201, 404),
    ("patch", "/watchlists/{watchlist_id}/webhooks/{webhook_id}"): Rule(LIST_KEEPERS, 200, 404),
    ("delete", "/watchlists/{watchlist_id}/webhooks/{webhook_id}"): Rule(LIST_KEEPERS, 204, 404),
    ("get", "/alerts"): Rule(READERS, 200, 200),  # 200 with no site-2 alerts
    ("get", "/alerts/stream"): Rule(READERS, 200, 200),  # ends after API_ALERT_STREAM_MAX_S
    ("get", "/alerts/{alert_id}"): Rule(READERS, 200, 404),
    ("post", "/alerts/{alert_id}/{action}"): Rule(READERS, 200, 404),
}


@dataclass(frozen=True)
class Tokens:
    unscoped: dict[str, str]
    site_1: dict[str, str]


@pytest.fixture
def tokens(settings: Settings) -> Tokens:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        unscoped: dict[str, str] = {r: create_key(conn, r, r)[1] for r in KEY_ROLES}
        site_1: dict[str, str] = {r: create_key(conn, r, r, sites=["site-1"])[1] for r in KEY_ROLES}
        for camera_id, site in (("cam-001", "site-1"), ("cam-002", "site-2")):
            upsert_camera(conn, CameraSpec(camera_id, site))
    return Tokens(unscoped, site_1)


@pytest.fixture
def client(settings: Settings, stored: list[DecodedEvent]) -> Iterator[TestClient]:
    """The API, its alert streams ending soon enough for a test to read them whole."""
    api = settings.api.model_copy(update={"alert_stream_max_s": 0.3})
    with TestClient(create_app(settings.model_copy(update={"api": api}))) as test_client:
        yield test_client


def _read_of_site(stored: list[DecodedEvent], settings: Settings, site: str) -> int:
    """The id of a read of ``site`` that has a stored image."""
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute(
            "SELECT id FROM plate_detections WHERE site = %s AND image_object_key IS NOT NULL"
            " LIMIT 1",
            (site,),
        ).fetchone()
    assert row is not None
    return int(row[0])


@dataclass(frozen=True)
class Target:
    """What a request asks for: a site, a read of it, and the database to make lists in."""

    site: str
    plate_id: int
    settings: Settings


def _fresh_list(target: Target) -> tuple[str, str]:
    """A new watchlist of the target's site with one entry: each request gets its own, so a
    delete leaves the next request something to ask for."""
    with psycopg.connect(target.settings.db.conninfo(), autocommit=True) as conn:
        row = conn.execute(
            "WITH l AS (INSERT INTO watchlists (name, priority, owner, sites)"
            " VALUES ('list', 'warning', 'test', ARRAY[%s]) RETURNING id)"
            " INSERT INTO watchlist_entries (watchlist_id, plate, plate_normalized, match_mode)"
            " SELECT id, 'AB12CDE', 'AB12CDE', 'exact' FROM l RETURNING watchlist_id, id",
            (target.site,),
        ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def _fresh_tag(target: Target) -> str:
    """A new tag on the plate of the target's read, made at its camera."""
    tag = f"t{next(_CORRECTIONS)}"
    with psycopg.connect(target.settings.db.conninfo(), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO plate_tags (plate_normalized, tag, camera_id, site, key_name)"
            " SELECT plate_normalized, %s, camera_id, site, 'test' FROM plate_detections"
            " WHERE id = %s",
            (tag, target.plate_id),
        )
    return tag


def _fresh_webhook(target: Target, watchlist_id: str) -> str:
    with psycopg.connect(target.settings.db.conninfo(), autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO webhooks (watchlist_id, url, secret)"
            " VALUES (%s, 'https://h.example/', 's') RETURNING id",
            (watchlist_id,),
        ).fetchone()
    assert row is not None
    return str(row[0])


def _fresh_alert(target: Target) -> str:
    """A new alert at the target's site, not yet acknowledged."""
    watchlist_id, entry_id = _fresh_list(target)
    with psycopg.connect(target.settings.db.conninfo(), autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO alerts (watchlist_id, entry_id, priority, plate_text, plate_normalized,"
            " camera_id, site, track_id, first_seen, last_seen) VALUES (%s, %s, 'warning',"
            " 'AB12CDE', 'AB12CDE', %s, %s, 't', now(), now()) RETURNING id",
            (watchlist_id, entry_id, f"cam-{target.site}", target.site),
        ).fetchone()
    assert row is not None
    return str(row[0])


_CORRECTIONS = count()

_BODIES: dict[tuple[str, str], Callable[[str], Any]] = {
    ("post", "/plates/{plate_id}/corrections"): lambda _site: {
        "plate_text": f"QX{next(_CORRECTIONS)}"  # a new text each time: an unchanged one is 409
    },
    ("post", "/plates/{plate_id}/tags"): lambda _site: {"tag": "seen"},
    ("post", "/plates/{plate_id}/notes"): lambda _site: {"text": "seen"},
    ("post", "/events"): lambda site: event(node={"site": site, "host": "h"}),
    ("post", "/watchlists"): lambda site: {"name": "l", "owner": "o", "sites": [site]},
    ("patch", "/watchlists/{watchlist_id}"): lambda _site: {"priority": "critical"},
    ("post", "/watchlists/{watchlist_id}/entries"): lambda _site: {"plate": "XY34ZZZ"},
    ("put", "/watchlists/{watchlist_id}/entries/{entry_id}"): lambda _site: {"plate": "XY99"},
    ("post", "/watchlists/{watchlist_id}/entries.csv"): lambda _site: b"plate\nXY34ZZZ\n",
    ("post", "/alerts/{alert_id}/{action}"): lambda _site: {"note": "seen"},
    ("post", "/watchlists/{watchlist_id}/webhooks"): lambda _site: {"url": "https://h.example/"},
    ("patch", "/watchlists/{watchlist_id}/webhooks/{webhook_id}"): lambda _site: {"enabled": False},
}


def _request(
    client: TestClient, operation: tuple[str, str], token: str | None, target: Target
) -> Any:
    method, template = operation
    path = template.replace("{plate_id}", str(target.plate_id))
    if "{tag}" in path:
        path = path.replace("{tag}", _fresh_tag(target))
    if "{watchlist_id}" in path:
        watchlist_id, entry_id = _fresh_list(target)
        path = path.replace("{watchlist_id}", watchlist_id).replace("{entry_id}", entry_id)
        if "{webhook_id}" in path:
            path = path.replace("{webhook_id}", _fresh_webhook(target, watchlist_id))
    if "{alert_id}" in path:
        path = path.replace("{alert_id}", _fresh_alert(target)).replace("{action}", "acknowledge")
    headers = as_key(token) if token else {}
    body = _BODIES.get(operation)
    if body is not None:
        content = body(target.site)
        if isinstance(content, bytes):
            csv = headers | {"content-type": "text/csv"}
            return client.request(method, path, content=content, headers=csv)
        return client.request(method, path, json=content, headers=headers)
    searches = ("/plates/search", "/plates/history")
    params: dict[str, Any] = {"plate_text": "AB12", "mode": "prefix"} if path in searches else {}
    params |= _CO_PRESENCE.get(path, {})
    return client.request(method, path, params=params, headers=headers)


_DAY = ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z")
_CO_PRESENCE: dict[str, dict[str, Any]] = {
    "/convoy": {"plate_text": "AB12CDE", "start_time": _DAY[0], "end_time": _DAY[1]},
    "/stakeout": {"place": [f"site:site-{i}@{_DAY[0]}/{_DAY[1]}" for i in (1, 2)]},
}


def test_every_operation_has_a_rule(client: TestClient) -> None:
    operations = {
        (method, path)
        for path, methods in client.app.openapi()["paths"].items()  # type: ignore[attr-defined]
        for method in methods
    }
    assert operations == set(RULES)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_in_and_out_of_scope(
    client: TestClient, tokens: Tokens, settings: Settings, stored: list[DecodedEvent], role: str
) -> None:
    targets = {
        site: Target(site, _read_of_site(stored, settings, site), settings)
        for site in ("site-1", "site-2")
    }
    for operation, rule in RULES.items():
        _check(client, tokens, targets, operation, rule, role)


def _check(
    client: TestClient,
    tokens: Tokens,
    targets: dict[str, Target],
    operation: tuple[str, str],
    rule: Rule,
    role: str,
) -> None:
    what = f"{role} on {operation}"
    expected = rule.ok if role in rule.allowed else (401 if role == "none" else 403)
    answer = _request(client, operation, tokens.unscoped.get(role), targets["site-1"])
    assert answer.status_code == expected, f"{what}: {answer.text}"
    if role == "none" or rule.out_of_scope is None:
        return
    inside = _request(client, operation, tokens.site_1[role], targets["site-1"])
    outside = _request(client, operation, tokens.site_1[role], targets["site-2"])
    if role not in rule.allowed:
        assert (inside.status_code, outside.status_code) == (403, 403), what
        return
    assert inside.status_code == rule.ok, f"{what}, in scope: {inside.text}"
    assert outside.status_code == rule.out_of_scope, f"{what}, out of scope: {outside.text}"
    _assert_nothing_of_site_2(operation, outside)


def _assert_nothing_of_site_2(operation: tuple[str, str], answer: Any) -> None:
    checks: dict[tuple[str, str], Callable[[Any], bool]] = {
        ("get", "/plates"): lambda b: all(item["site"] == "site-1" for item in b["items"]),
        ("get", "/plates/search"): lambda b: all(item["site"] == "site-1" for item in b["items"]),
        ("get", "/plates/history"): lambda b: all(c["site"] == "site-1" for c in b["cameras"]),
        ("get", "/passes"): lambda b: all(item["site"] == "site-1" for item in b["items"]),
        ("get", "/stats"): lambda b: all(row["site"] == "site-1" for row in b["series"]),
        ("get", "/stats/cameras"): lambda b: all(c["site"] == "site-1" for c in b["cameras"]),
        ("get", "/cameras"): lambda b: [item["site_id"] for item in b["items"]] == ["site-1"],
        ("post", "/events"): lambda b: (
            {item["reason"] for item in b["rejected"]} == {"out_of_scope"}
        ),
        ("get", "/watchlists"): lambda b: all(item["sites"] == ["site-1"] for item in b["items"]),
        ("get", "/alerts"): lambda b: all(item["site"] == "site-1" for item in b["items"]),
    }
    check = checks.get(operation)
    assert check is None or check(answer.json())
