"""Vehicle attribute filters (type, make, model, colour, region, direction) on /plates,
/plates/search, /passes and /plates/history, against real PostgreSQL: each finds exactly the
rows with that value, ignoring case, inside the key's scope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from alpr_core.config import Settings
from alpr_core.events.avro import DecodedEvent
from alpr_core.events.model import PlateEvent
from alpr_core.events.parse import parse_event
from alpr_core.images.object_store import ObjectImageStore, edge_uploads_of
from alpr_core.storage.sink import DetectionSink
from tests.integration.api.conftest import LIMITS, Keys, all_pages, as_key
from tests.integration.api.test_passes import all_passes
from tests.unit.factories import record

Pages = Callable[..., list[dict[str, Any]]]

# (query parameter, what it asks for, the event's value)
ATTRIBUTES: list[tuple[str, str, Callable[[PlateEvent], str | None]]] = [
    ("vehicle_type", "SUV", lambda e: e.vehicle.type),
    ("vehicle_make", "volvo", lambda e: e.vehicle.make),
    ("vehicle_model", "GOLF", lambda e: e.vehicle.model),
    ("vehicle_color", "Red", lambda e: e.vehicle.color),
    ("region", "US-NV", lambda e: e.region),
    ("direction", "IN", lambda e: e.direction),
]


def _pages(client: TestClient, path: str) -> Pages:
    def pages(token: str, **params: Any) -> list[dict[str, Any]]:
        return all_pages(client, token, path, **params)

    return pages


def _same(value: str | None, asked: str) -> bool:
    return value is not None and value.lower() == asked.lower()


@pytest.mark.parametrize(("name", "asked", "value_of"), ATTRIBUTES)
def test_each_attribute_finds_exactly_its_reads(
    client: TestClient,
    keys: Keys,
    stored: list[DecodedEvent],
    name: str,
    asked: str,
    value_of: Callable[[PlateEvent], str | None],
) -> None:
    expected = {d.event.event_id for d in stored if _same(value_of(d.event), asked)}
    assert expected, "the simulated reads hold the value asked for"
    assert len(expected) < len(stored), "and others"
    items = _pages(client, "/plates")(keys.viewer, limit=29, **{name: asked})
    assert {item["event_id"] for item in items} == {str(e) for e in expected}


def test_attributes_apply_together_and_with_a_search(
    client: TestClient, keys: Keys, stored: list[DecodedEvent]
) -> None:
    events = [d.event for d in stored]
    chosen = next(e for e in events if e.vehicle.make and e.vehicle.color)
    make, color = chosen.vehicle.make or "", chosen.vehicle.color or ""
    both = {
        str(e.event_id)
        for e in events
        if _same(e.vehicle.make, make) and _same(e.vehicle.color, color)
    }
    listed = _pages(client, "/plates")(keys.viewer, vehicle_make=make, vehicle_color=color)
    assert {item["event_id"] for item in listed} == both

    prefix = chosen.plate_normalized[:2]
    searched = _pages(client, "/plates/search")(
        keys.viewer, mode="prefix", plate_text=prefix, vehicle_make=make.upper()
    )
    assert {item["event_id"] for item in searched} == {
        str(e.event_id)
        for e in events
        if e.plate_normalized.startswith(prefix) and _same(e.vehicle.make, make)
    }
    fuzzy = client.get(
        "/plates/search",
        params={"mode": "fuzzy", "plate_text": chosen.plate_normalized, "vehicle_color": color},
        headers=as_key(keys.viewer),
    ).json()["items"]
    assert str(chosen.event_id) in {item["event_id"] for item in fuzzy}
    assert all(_same(_vehicle_color(client, keys, item["id"]), color) for item in fuzzy)


def _vehicle_color(client: TestClient, keys: Keys, plate_id: int) -> str | None:
    detail = client.get(f"/plates/{plate_id}", headers=as_key(keys.viewer)).json()
    color: str | None = detail["vehicle"]["color"]
    return color


def test_a_site_key_filtering_by_attribute_still_sees_only_its_site(
    client: TestClient, keys: Keys, stored: list[DecodedEvent]
) -> None:
    items = _pages(client, "/plates")(keys.site_1_only, vehicle_type="car")
    expected = {
        str(d.event.event_id)
        for d in stored
        if d.event.site == "site-1" and _same(d.event.vehicle.type, "car")
    }
    assert {item["event_id"] for item in items} == expected
    assert expected


@pytest.mark.parametrize(("name", "asked"), [("vehicle_type", "car"), ("direction", "Out")])
def test_passes_are_filtered_by_their_own_attributes(
    client: TestClient, keys: Keys, settings: Settings, name: str, asked: str
) -> None:
    with psycopg.connect(settings.db.conninfo()) as conn:
        rows = conn.execute(f"SELECT id, {name} FROM passes").fetchall()  # name: from the list
    expected = {row[0] for row in rows if _same(row[1], asked)}
    assert expected
    assert len(expected) < len(rows)
    items = all_passes(client, keys.viewer, limit=23, **{name: asked})
    assert {item["id"] for item in items} == expected


def test_history_counts_only_the_passes_with_the_attribute(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    with psycopg.connect(settings.db.conninfo()) as conn:
        most = conn.execute(  # the plate of most passes
            "SELECT plate_normalized FROM passes GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()
        assert most is not None
        plate = most[0]
        rows = conn.execute(
            "SELECT read_count, vehicle_color FROM passes WHERE plate_normalized = %s", (plate,)
        ).fetchall()
    color = str(rows[0][1])
    response = client.get(
        "/plates/history",
        params={"plate_text": plate, "vehicle_color": color.upper()},
        headers=as_key(keys.viewer),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["passes"] == sum(1 for _, c in rows if _same(c, color))
    other = client.get(
        "/plates/history",
        params={"plate_text": plate, "vehicle_color": "no-such-colour"},
        headers=as_key(keys.viewer),
    ).json()
    assert other["passes"] == 0


def test_a_direction_that_is_not_text_is_no_direction(
    client: TestClient, keys: Keys, settings: Settings, images: ObjectImageStore
) -> None:
    now = datetime.now(UTC)
    records = [
        record(
            event_id=f"00000000-0000-4000-8000-00000000d1{i:02d}",
            captured_at=(now - timedelta(minutes=1)).isoformat(),
            camera_id="cam-direction",
            images={"plate_url": None, "vehicle_url": None, "frame_url": None},
            extras={"direction": value},
        )
        for i, value in enumerate([7, "7", ["7"]])
    ]
    events = [DecodedEvent(parse_event(r, LIMITS, now), 1) for r in records]
    with ConnectionPool(settings.db.conninfo(), min_size=1, max_size=1) as pool:
        sink = DetectionSink(pool, images, 2, edge_uploads_of(settings))
        sink.write(events)
        sink.close()
    items = _pages(client, "/plates")(keys.viewer, camera_id="cam-direction", direction="7")
    assert [item["event_id"] for item in items] == [records[1]["event_id"]]


@pytest.mark.parametrize(
    "query",
    ["vehicle_make=", "vehicle_color=" + "x" * 101, "direction=" + "n" * 65, "region=%00"],
)
def test_bad_attributes_are_422_problems(client: TestClient, keys: Keys, query: str) -> None:
    for path in ("/plates", "/passes"):
        response = client.get(f"{path}?{query}", headers=as_key(keys.viewer))
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
