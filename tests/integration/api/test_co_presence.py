"""/convoy and /stakeout against real PostgreSQL: reads written through the storage sink (so
their passes are the writer's), companions found and ranked with their evidence, a misread
counted for its vehicle, places by camera or site, and a site key's wall."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from alpr_core.config import Settings
from alpr_core.events.avro import DecodedEvent
from alpr_core.events.parse import parse_event
from alpr_core.images.object_store import ObjectImageStore, edge_uploads_of
from alpr_core.storage.sink import DetectionSink
from tests.integration.api.conftest import LIMITS, Keys, as_key
from tests.unit.factories import record

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
SITES = {"conv-1": "site-1", "conv-2": "site-1", "conv-3": "site-2"}
# (plate, camera, seconds after T0, track, confidence)
READS = [
    ("TGT100", "conv-1", 0, "t1", 0.9),
    ("TGT100", "conv-1", 2, "t1", 0.9),
    ("TGT100", "conv-2", 600, "t2", 0.9),
    ("TGT100", "conv-3", 1200, "t3", 0.9),
    ("CMP200", "conv-1", 20, "c1", 0.9),
    ("CMP200", "conv-2", 630, "c2", 0.9),
    ("CMP2O0", "conv-2", 631, "c2", 0.4),  # a misread, in the same pass
    ("CMP200", "conv-3", 1190, "c3", 0.9),
    ("CMP300", "conv-1", 40, "d1", 0.9),
    ("CMP300", "conv-2", 590, "d2", 0.9),
    ("FAR400", "conv-1", 600, "f1", 0.9),  # ten minutes after the plate
    ("ONE500", "conv-3", 1210, "o1", 0.9),  # one place only
]


@pytest.fixture
def convoy_reads(
    settings: Settings, images: ObjectImageStore, stored: list[DecodedEvent]
) -> list[DecodedEvent]:
    now = datetime.now(UTC)
    events = []
    for i, (plate, camera, after, track, confidence) in enumerate(READS):
        at = T0 + timedelta(seconds=after)
        raw = record(
            event_id=f"00000000-0000-4000-8000-0000000c{i:04d}",
            captured_at=at.isoformat(),
            camera_id=camera,
            track_id=track,
            plate={
                "text": plate,
                "normalized_text": plate,
                "confidence": confidence,
                "region": None,
            },
            images={"plate_url": None, "vehicle_url": None, "frame_url": None},
            node={"site": SITES[camera], "host": "edge"},
        )
        events.append(DecodedEvent(parse_event(raw, LIMITS, now), 1))
    with ConnectionPool(settings.db.conninfo(), min_size=1, max_size=1) as pool:
        sink = DetectionSink(
            pool, images, 2, edge_uploads_of(settings), pass_gap=timedelta(seconds=60)
        )
        sink.write(events)
        sink.close()
    return events


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _convoy(client: TestClient, token: str, **params: Any) -> Any:
    query = {
        "plate_text": "tgt-100",
        "start_time": _iso(T0 - timedelta(hours=1)),
        "end_time": _iso(T0 + timedelta(hours=1)),
        **params,
    }
    response = client.get("/convoy", params=query, headers=as_key(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_companions_are_ranked_by_places_shared_with_their_evidence(
    client: TestClient, keys: Keys, convoy_reads: list[DecodedEvent]
) -> None:
    body = _convoy(client, keys.viewer)
    assert body["plate_normalized"] == "TGT100"
    assert body["target_passes"] == 3
    assert body["more_target_passes"] is False
    found = {c["plate_normalized"]: c for c in body["companions"]}
    assert [c["plate_normalized"] for c in body["companions"]] == ["CMP200", "CMP300"]
    assert found["CMP200"]["places"] == 3  # the misread at conv-2 counts for its pass
    assert found["CMP300"]["places"] == 2
    evidence = found["CMP200"]["evidence"]
    assert [e["camera_id"] for e in evidence] == ["conv-1", "conv-2", "conv-3"]
    assert all(e["target"]["id"] != e["companion"]["id"] for e in evidence)
    conv_2 = evidence[1]["companion"]
    assert conv_2["first_seen"].startswith(_iso(T0 + timedelta(seconds=630))[:19])
    assert conv_2["last_seen"].startswith(_iso(T0 + timedelta(seconds=631))[:19])


def test_window_places_and_sites_narrow_the_companions(
    client: TestClient, keys: Keys, convoy_reads: list[DecodedEvent]
) -> None:
    wide = _convoy(client, keys.viewer, window_s=900, min_places=1)
    assert "FAR400" in {c["plate_normalized"] for c in wide["companions"]}
    assert "ONE500" in {c["plate_normalized"] for c in wide["companions"]}
    three = _convoy(client, keys.viewer, min_places=3)
    assert [c["plate_normalized"] for c in three["companions"]] == ["CMP200"]
    by_site = _convoy(client, keys.viewer, by="site")
    assert [c["plate_normalized"] for c in by_site["companions"]] == ["CMP200"]
    assert by_site["companions"][0]["places"] == 2


def test_a_site_key_convoys_only_inside_its_site(
    client: TestClient, keys: Keys, convoy_reads: list[DecodedEvent]
) -> None:
    body = _convoy(client, keys.site_1_only)
    assert body["target_passes"] == 2
    cameras = {e["camera_id"] for c in body["companions"] for e in c["evidence"]}
    assert cameras == {"conv-1", "conv-2"}
    assert {c["plate_normalized"]: c["places"] for c in body["companions"]} == {
        "CMP200": 2,
        "CMP300": 2,
    }


def _place(kind: str, name: str, after_s: int, span_s: int = 60) -> str:
    since = T0 + timedelta(seconds=after_s - span_s)
    return f"{kind}:{name}@{_iso(since)}/{_iso(since + timedelta(seconds=2 * span_s))}"


def test_stakeout_finds_the_plates_at_every_place_or_at_enough(
    client: TestClient, keys: Keys, convoy_reads: list[DecodedEvent]
) -> None:
    places = [
        _place("camera", "conv-1", 0),
        _place("camera", "conv-2", 610),
        _place("site", "site-2", 1200),
    ]
    every = client.get("/stakeout", params={"place": places}, headers=as_key(keys.viewer))
    assert every.status_code == 200, every.text
    plates = every.json()["plates"]
    assert [p["plate_normalized"] for p in plates] == ["CMP200", "TGT100"]
    assert [e["place"] for e in plates[0]["evidence"]] == [1, 2, 3]
    assert plates[0]["evidence"][1]["reads"] == 1  # CMP200 itself; the misread is its own plate
    two = client.get(
        "/stakeout", params={"place": places, "min_places": 2}, headers=as_key(keys.viewer)
    ).json()["plates"]
    assert {p["plate_normalized"]: p["places"] for p in two} == {
        "CMP200": 3,
        "TGT100": 3,
        "CMP300": 2,
    }
    walled = client.get("/stakeout", params={"place": places}, headers=as_key(keys.site_1_only))
    assert walled.json()["plates"] == []  # site-2's place shows it nothing


@pytest.mark.parametrize(
    "query",
    [
        "place=camera:conv-1@2026-01-01T00:00Z/2026-01-01T01:00Z",  # one place
        "place=camera:a@x/y&place=camera:b@2026-01-01T00:00Z/2026-01-01T01:00Z",
        "place=lane:a@2026-01-01T00:00Z/2026-01-01T01:00Z&place=site:b@2026-01-01T00:00Z/2026-01-01T01:00Z",
        "place=site:a@2026-01-01T01:00Z/2026-01-01T00:00Z&place=site:b@2026-01-01T00:00Z/2026-01-01T01:00Z",
        "place=site:a@2026-01-01T00:00Z/2026-01-01T01:00Z&place=site:b@2026-01-01T00:00Z/2026-01-01T01:00Z&min_places=3",
    ],
)
def test_bad_stakeouts_are_422_problems(client: TestClient, keys: Keys, query: str) -> None:
    response = client.get(f"/stakeout?{query}", headers=as_key(keys.viewer))
    assert response.status_code == 422, response.text


def test_convoys_and_stakeouts_are_audited_searches(
    client: TestClient, keys: Keys, convoy_reads: list[DecodedEvent], settings: Settings
) -> None:
    _convoy(client, keys.viewer, purpose="case 7")
    client.get(
        "/stakeout",
        params={"place": [_place("camera", "conv-1", 0), _place("camera", "conv-2", 610)]},
        headers=as_key(keys.viewer),
    )
    with psycopg.connect(settings.db.conninfo()) as conn:
        rows = conn.execute(
            "SELECT path, purpose, result_count FROM audit_log"
            " WHERE path IN ('/convoy', '/stakeout') ORDER BY id"
        ).fetchall()
    assert rows == [("/convoy", "case 7", 2), ("/stakeout", None, 3)]  # TGT100, CMP200, CMP300
