"""/plates/history against real PostgreSQL: the tallies of a plate's passes (checked against the
passes themselves), every search mode, a site key's wall, the purpose rule and the audit row."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.events.avro import DecodedEvent
from tests.integration.api.conftest import Keys, as_key
from tests.integration.api.test_passes import all_passes


def history(client: TestClient, token: str, **params: Any) -> dict[str, Any]:
    response = client.get("/plates/history", params=params, headers=as_key(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def busiest_plate(client: TestClient, token: str) -> tuple[str, list[dict[str, Any]]]:
    passes = all_passes(client, token, limit=1000)
    plate, _ = Counter(p["plate_normalized"] for p in passes).most_common(1)[0]
    return plate, [p for p in passes if p["plate_normalized"] == plate]


def test_history_tallies_the_plates_passes(
    client: TestClient, keys: Keys, stored: list[DecodedEvent]
) -> None:
    plate, passes = busiest_plate(client, keys.viewer)
    body = history(client, keys.viewer, plate_text=plate, latest=3)
    assert body["passes"] == len(passes)
    assert body["reads"] == sum(p["read_count"] for p in passes)
    assert body["first_seen"] == min(p["first_seen"] for p in passes)
    assert body["last_seen"] == max(p["last_seen"] for p in passes)
    assert body["plates"] == [
        {
            "plate_normalized": plate,
            "passes": len(passes),
            "reads": body["reads"],
            "first_seen": body["first_seen"],
            "last_seen": body["last_seen"],
        }
    ]
    per_camera = Counter(p["camera_id"] for p in passes)
    assert {c["camera_id"]: c["passes"] for c in body["cameras"]} == per_camera
    assert sum(s["passes"] for s in body["sites"]) == len(passes)
    per_day = Counter(datetime.fromisoformat(p["first_seen"]).date().isoformat() for p in passes)
    assert {d["day"]: d["passes"] for d in body["timeline"]} == per_day
    assert [p["id"] for p in body["latest_passes"]] == [p["id"] for p in passes[:3]]
    assert body["more_plates"] is False


def test_every_search_mode_finds_the_plate(client: TestClient, keys: Keys) -> None:
    plate, passes = busiest_plate(client, keys.viewer)
    for mode, term in [
        ("prefix", plate[:4]),
        ("wildcard", f"{plate[:3]}*"),
        ("fuzzy", plate[:-1] + ("0" if plate[-1] != "0" else "1")),
    ]:
        body = history(client, keys.viewer, plate_text=term, mode=mode)
        found = {p["plate_normalized"]: p["passes"] for p in body["plates"]}
        assert found[plate] == len(passes), mode
        assert body["passes"] == sum(found.values()), mode
    nothing = history(client, keys.viewer, plate_text="ZZZZ9999")
    assert (nothing["passes"], nothing["first_seen"], nothing["plates"]) == (0, None, [])
    short = client.get(
        "/plates/history", params={"plate_text": "A", "mode": "fuzzy"}, headers=as_key(keys.viewer)
    )
    assert short.status_code == 422


def test_a_site_key_learns_nothing_of_other_sites(client: TestClient, keys: Keys) -> None:
    passes = all_passes(client, keys.admin, limit=1000)
    elsewhere = next(p for p in passes if p["site"] == "site-2")["plate_normalized"]
    mine = history(client, keys.site_1_only, plate_text=elsewhere, mode="wildcard")
    everything = history(client, keys.admin, plate_text=elsewhere, mode="wildcard")
    assert {c["site"] for c in mine["cameras"]} <= {"site-1"}
    assert mine["passes"] == sum(
        c["passes"] for c in everything["cameras"] if c["site"] == "site-1"
    )
    seen_by_site_1 = {p["plate_normalized"] for p in passes if p["site"] == "site-1"}
    assert {p["plate_normalized"] for p in mine["plates"]} <= seen_by_site_1


def test_history_is_audited_and_may_require_a_purpose(
    settings: Settings, client: TestClient, keys: Keys
) -> None:
    history(client, keys.viewer, plate_text="AB12CDE", purpose="case 7")
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute(
            "SELECT path, params, status, purpose FROM audit_log WHERE path = '/plates/history'"
        ).fetchone()
    assert row == (
        "/plates/history",
        {"plate_text": ["AB12CDE"], "purpose": ["case 7"]},
        200,
        "case 7",
    )
    strict = settings.model_copy(
        update={"api": settings.api.model_copy(update={"require_purpose": True})}
    )
    with TestClient(create_app(strict)) as strict_client:
        refused = strict_client.get(
            "/plates/history", params={"plate_text": "AB12CDE"}, headers=as_key(keys.viewer)
        )
    assert refused.status_code == 422
