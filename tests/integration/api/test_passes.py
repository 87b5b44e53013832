"""/passes against real PostgreSQL and S3: the passes of the stored reads (checked against the
brute-force model of the rule), pages, filters, a site key's wall, the best read's links, and
the audit row."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from alpr_core.config import Settings
from alpr_core.db.passes import pass_read
from alpr_core.events.avro import DecodedEvent
from alpr_core.passes.grouping import PassRead
from tests.integration.api.conftest import PASS_GAP_S, STORED, Keys, all_pages, as_key
from tests.unit.passes.rule_model import GAP, model_summary


def all_passes(client: TestClient, token: str, **params: Any) -> list[dict[str, Any]]:
    return all_pages(client, token, "/passes", **params)


def reads_of(stored: list[DecodedEvent]) -> list[PassRead]:
    return [pass_read(d.event) for d in stored]


def test_the_passes_are_the_rules_over_the_stored_reads(
    client: TestClient, keys: Keys, stored: list[DecodedEvent]
) -> None:
    assert timedelta(seconds=PASS_GAP_S) == GAP
    items = all_passes(client, keys.viewer, limit=17)
    found = {
        (
            p["camera_id"],
            datetime.fromisoformat(p["first_seen"]),
            datetime.fromisoformat(p["last_seen"]),
            p["read_count"],
        )
        for p in items
    }
    assert found == model_summary(reads_of(stored))
    assert sum(p["read_count"] for p in items) == STORED
    assert len(items) < STORED, "the simulated tracks have several reads each"
    order = [(datetime.fromisoformat(p["first_seen"]), p["id"]) for p in items]
    assert order == sorted(order, reverse=True)
    assert len({p["id"] for p in items}) == len(items)


def test_the_best_read_opens_at_plates_with_its_crop(
    client: TestClient, keys: Keys, stored: list[DecodedEvent]
) -> None:
    items = all_passes(client, keys.viewer, limit=1000)
    confidence = {d.event.event_id: d.event.confidence for d in stored}
    with_image = [p for p in items if p["best_read"]["image_url"]]
    assert with_image, "half the simulated reads carry an inline image"
    for item in items[:20] + with_image[:5]:
        best = item["best_read"]
        read = client.get(f"/plates/{best['plate_id']}", headers=as_key(keys.viewer)).json()
        assert read["event_id"] == best["event_id"]
        assert read["camera_id"] == item["camera_id"]
        assert item["confidence"] == confidence[best["event_id"]]
    image = client.get(with_image[0]["best_read"]["image_url"], headers=as_key(keys.viewer))
    assert image.status_code == 200
    assert image.headers["content-type"] in {"image/jpeg", "image/png"}


def test_filters_apply_as_on_plates(
    client: TestClient, keys: Keys, stored: list[DecodedEvent]
) -> None:
    everything = all_passes(client, keys.viewer, limit=1000)
    middle = sorted(datetime.fromisoformat(p["first_seen"]) for p in everything)[
        len(everything) // 2
    ]
    camera = everything[0]["camera_id"]
    items = all_passes(
        client, keys.viewer, camera_id=camera, start_time=middle.isoformat(), min_confidence=0.8
    )
    expected = [
        p
        for p in everything
        if p["camera_id"] == camera
        and datetime.fromisoformat(p["first_seen"]) >= middle
        and p["confidence"] >= 0.8
    ]
    assert [p["id"] for p in items] == [p["id"] for p in expected]
    bad = client.get("/passes", params={"cursor": "nope"}, headers=as_key(keys.viewer))
    assert bad.status_code == 422


def test_a_site_key_sees_only_its_sites_passes(client: TestClient, keys: Keys) -> None:
    everything = all_passes(client, keys.admin, limit=1000)
    mine = all_passes(client, keys.site_1_only, limit=1000)
    assert {p["site"] for p in everything} == {"site-1", "site-2"}
    assert [p["id"] for p in mine] == [p["id"] for p in everything if p["site"] == "site-1"]
    other = all_passes(client, keys.site_1_only, site="site-2")
    assert other == []


def test_each_page_is_audited_with_its_count(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    client.get("/passes", params={"limit": 7}, headers=as_key(keys.viewer))
    assert client.get("/passes").status_code == 401
    with psycopg.connect(settings.db.conninfo()) as conn:
        rows = conn.execute(
            "SELECT key_name, path, params, status, result_count FROM audit_log"
            " WHERE path = '/passes' ORDER BY id"
        ).fetchall()
    assert rows[0] == ("test viewer", "/passes", {"limit": ["7"]}, 200, 7)
    assert rows[1][3] == 401


def test_each_read_s_pass_holds_it_and_lists_exactly_its_reads(
    client: TestClient, stored: list[DecodedEvent], keys: Keys
) -> None:
    reads = all_pages(client, keys.viewer, "/plates", limit=200)
    assert len(reads) == STORED
    for read in reads[:: STORED // 24]:
        answer = client.get(f"/plates/{read['id']}/pass", headers=as_key(keys.viewer))
        assert answer.status_code == 200, answer.text
        found = answer.json()
        vehicle_pass = found["vehicle_pass"]
        assert vehicle_pass is not None
        assert vehicle_pass["camera_id"] == read["camera_id"]
        first, last = (
            datetime.fromisoformat(vehicle_pass[at]) for at in ("first_seen", "last_seen")
        )
        assert first <= datetime.fromisoformat(read["timestamp"]) <= last
        ids = [r["id"] for r in found["reads"]]
        assert read["id"] in ids
        assert len(ids) == vehicle_pass["read_count"]
        assert {r["camera_id"] for r in found["reads"]} == {read["camera_id"]}
    missing = client.get("/plates/999999999/pass", headers=as_key(keys.viewer))
    assert missing.status_code == 404
