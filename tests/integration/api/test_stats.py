"""/stats against real PostgreSQL: the hourly rollups the insert trigger keeps (migration 0026)
give what a brute-force count of the stored reads gives, per hour and day, per camera, site and
in all, and the pass counts the writer keeps (migration 0028) those of the passes kept; a replay
changes nothing; a site key counts only its site; exports and audit."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool
from typer.testing import CliRunner

from alpr_core.api.app import create_app
from alpr_core.cli import app
from alpr_core.config import Settings
from alpr_core.db.cameras import CameraSpec, upsert_camera
from alpr_core.events.avro import DecodedEvent
from alpr_core.events.model import PlateEvent
from alpr_core.events.parse import parse_event
from alpr_core.images.object_store import ObjectImageStore, edge_uploads_of
from alpr_core.storage.sink import DetectionSink
from tests.integration.api.conftest import LIMITS, Keys, as_key, store
from tests.integration.stats_model import assert_same_series, bucket_start, expected_series
from tests.unit.factories import record


def _stats(client: TestClient, token: str, **params: Any) -> Any:
    query = {"start_time": (datetime.now(UTC) - timedelta(hours=3)).isoformat(), **params}
    response = client.get("/stats", params=query, headers=as_key(token))
    assert response.status_code == 200, response.text
    return response.json()


def _series(body: Any) -> list[tuple[datetime, str | None, str | None, int, float]]:
    return [
        (
            datetime.fromisoformat(row["at"]),
            row["camera_id"],
            row["site"],
            row["reads"],
            row["mean_confidence"],
        )
        for row in body["series"]
    ]


@pytest.mark.parametrize(
    ("bucket", "by"), [("hour", "camera"), ("hour", "site"), ("day", "all"), ("day", "camera")]
)
def test_stats_are_the_counts_of_the_stored_reads_and_passes(
    client: TestClient,
    keys: Keys,
    stored: list[DecodedEvent],
    settings: Settings,
    bucket: str,
    by: str,
) -> None:
    body = _stats(client, keys.viewer, bucket=bucket, by=by)
    want = expected_series((d.event for d in stored), bucket, by)
    assert_same_series(_series(body), want)
    assert body["reads"] == len(stored)
    assert len(want) > (1 if bucket == "hour" else 0)  # the simulated reads span hours
    passes = _passes_kept(settings, bucket, by)
    assert {(r["at"], r["camera_id"], r["site"]): r["passes"] for r in body["series"]} == passes
    assert body["passes"] == sum(passes.values()) < body["reads"]


def _passes_kept(settings: Settings, bucket: str, by: str) -> dict[tuple[Any, ...], int]:
    """The passes kept, counted per bucket of their first read and per ``by`` in Python."""
    with psycopg.connect(settings.db.conninfo()) as conn:
        kept = conn.execute("SELECT first_seen, camera_id, site FROM passes").fetchall()
    counts: dict[tuple[Any, ...], int] = {}
    for first_seen, camera, site in kept:
        at = bucket_start(first_seen, bucket).isoformat().replace("+00:00", "Z")
        place = (camera if by == "camera" else None, site if by in ("camera", "site") else None)
        counts[(at, *place)] = counts.get((at, *place), 0) + 1
    return counts


def test_a_replay_changes_no_count(
    client: TestClient,
    keys: Keys,
    stored: list[DecodedEvent],
    settings: Settings,
    images: ObjectImageStore,
) -> None:
    before = _stats(client, keys.viewer, bucket="hour")
    with ConnectionPool(settings.db.conninfo(), min_size=1, max_size=1) as pool:
        sink = DetectionSink(pool, images, 4, edge_uploads_of(settings))
        sink.write(stored[:100])  # already stored: nothing inserted, nothing counted
        sink.close()
    assert _stats(client, keys.viewer, bucket="hour") == before


def test_a_site_key_counts_only_its_site(
    client: TestClient, keys: Keys, stored: list[DecodedEvent]
) -> None:
    body = _stats(client, keys.site_1_only, by="all", bucket="day")
    site_1 = [d.event for d in stored if d.event.site == "site-1"]
    assert_same_series(_series(body), expected_series(site_1, "day", "all"))
    filtered = _stats(client, keys.viewer, by="camera", camera_id=["cam-001", "cam-002"])
    assert {row["camera_id"] for row in filtered["series"]} == {"cam-001", "cam-002"}


def test_stats_export_as_csv_and_are_audited(
    client: TestClient, keys: Keys, stored: list[DecodedEvent], settings: Settings
) -> None:
    body = _stats(client, keys.viewer, bucket="hour")
    response = client.get(
        "/stats",
        params={"start_time": body["start_time"], "bucket": "hour", "format": "csv"},
        headers=as_key(keys.viewer),
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(row["reads"]) for row in rows] == [row["reads"] for row in body["series"]]
    assert list(rows[0]) == [
        *("at", "camera_id", "site", "reads", "mean_confidence", "passes", "unique_plates")
    ]
    assert [row["unique_plates"] for row in rows] == [""] * len(rows), "hours: no sketch"
    with psycopg.connect(settings.db.conninfo()) as conn:
        counts = conn.execute(
            "SELECT result_count FROM audit_log WHERE path = '/stats' ORDER BY id"
        ).fetchall()
    assert [count for (count,) in counts] == [len(body["series"])] * 2


@pytest.mark.parametrize(
    "query",
    [
        "bucket=week",
        "by=plate",
        "start_time=2026-01-02T00:00:00Z&end_time=2026-01-01T00:00:00Z",
        "site=%00",
        "camera_id=a%00",
    ],
)
def test_bad_stats_queries_are_422_problems(client: TestClient, keys: Keys, query: str) -> None:
    response = client.get(f"/stats?{query}", headers=as_key(keys.viewer))
    assert response.status_code == 422, response.text


def test_camera_health_counts_each_cameras_reads_and_finds_its_last(
    client: TestClient, keys: Keys, stored: list[DecodedEvent], settings: Settings
) -> None:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        upsert_camera(conn, CameraSpec("cam-quiet", "site-1"))  # registered, never read
    response = client.get("/stats/cameras", headers=as_key(keys.viewer))
    assert response.status_code == 200, response.text
    health = {c["camera_id"]: c for c in response.json()["cameras"]}
    events = [d.event for d in stored]
    cameras = {e.camera_id for e in events}
    assert set(health) == cameras | {"cam-quiet"}
    for camera in cameras:
        mine = [e for e in events if e.camera_id == camera]
        assert health[camera]["reads_24h"] == len(mine)
        last = max(e.captured_at for e in mine)
        assert datetime.fromisoformat(health[camera]["last_read"]) == last
        mean = sum(e.confidence for e in mine) / len(mine)
        assert health[camera]["mean_confidence_24h"] == pytest.approx(mean)
        assert (health[camera]["usual_24h"], health[camera]["rate"]) == (0, None)
    quiet = health["cam-quiet"]
    assert (quiet["reads_24h"], quiet["last_read"], quiet["site"]) == (0, None, "site-1")

    walled = client.get("/stats/cameras", headers=as_key(keys.site_1_only)).json()["cameras"]
    assert {c["site"] for c in walled} == {"site-1"}
    assert {c["camera_id"] for c in walled} == {
        e.camera_id for e in events if e.site == "site-1"
    } | {"cam-quiet"}


def _distinct(events: list[PlateEvent], bucket: str, by: str) -> dict[tuple[Any, ...], int]:
    plates: dict[tuple[Any, ...], set[str]] = {}
    for e in events:
        at = bucket_start(e.captured_at, bucket).isoformat().replace("+00:00", "Z")
        place = (e.camera_id if by == "camera" else None, e.site if by != "all" else None)
        plates.setdefault((at, *place), set()).add(e.plate_normalized)
    return {group: len(found) for group, found in plates.items()}


@pytest.mark.parametrize("by", ["camera", "site", "all"])
def test_unique_plates_per_day_are_the_distinct_plates_read(
    client: TestClient, keys: Keys, stored: list[DecodedEvent], by: str
) -> None:
    """A few hundred plates: the sketches count them exactly."""
    events = [d.event for d in stored]
    body = _stats(client, keys.viewer, bucket="day", by=by)
    got = {(r["at"], r["camera_id"], r["site"]): r["unique_plates"] for r in body["series"]}
    assert got == _distinct(events, "day", by)
    every = len({e.plate_normalized for e in events})
    unique = body["unique_plates"]
    assert unique["lower_bound"] <= unique["estimate"] == every <= unique["upper_bound"]
    walled = _stats(client, keys.site_1_only, bucket="day", by="all")
    site_1 = {e.plate_normalized for e in events if e.site == "site-1"}
    assert walled["unique_plates"]["estimate"] == len(site_1) < every


def _passes_of(
    settings: Settings, images: ObjectImageStore, plate: str, where: PlateEvent, times: int
) -> None:
    """``times`` passes of ``plate`` at the camera and site of ``where``, ten minutes apart."""
    now = datetime.now(UTC)
    records = [
        record(
            event_id=str(uuid.uuid4()),
            captured_at=(now - timedelta(minutes=10 * (i + 1))).isoformat(),
            camera_id=where.camera_id,
            track_id=str(uuid.uuid4()),
            node={"site": where.site, "host": "h"},
            plate={"text": plate, "confidence": 0.9},
            images={"plate_url": None, "vehicle_url": None, "frame_url": None},
        )
        for i in range(times)
    ]
    store(settings, images, [DecodedEvent(parse_event(r, LIMITS, now), 1) for r in records])


def test_top_plates_are_the_plates_with_most_passes(
    client: TestClient,
    keys: Keys,
    stored: list[DecodedEvent],
    settings: Settings,
    images: ObjectImageStore,
) -> None:
    since = datetime.now(UTC) - timedelta(hours=3)
    site_1 = [d.event for d in stored if d.event.site == "site-1"]
    site_2 = [d.event for d in stored if d.event.site == "site-2"]
    _passes_of(settings, images, "TOP4444", site_1[0], 4)
    _passes_of(settings, images, "TOP3333", site_1[1], 3)
    _passes_of(settings, images, "TOP2222", site_2[0], 2)

    def top(token: str, **params: Any) -> Any:
        query = {"start_time": since.isoformat(), "limit": 5, "purpose": "case 7", **params}
        response = client.get("/stats/plates", params=query, headers=as_key(token))
        assert response.status_code == 200, response.text
        return response.json()

    def kept(site: str | None) -> list[tuple[str, int]]:
        with psycopg.connect(settings.db.conninfo()) as conn:
            counted = conn.execute(
                "SELECT plate_normalized, count(*) FROM passes"
                " WHERE %(site)s::text IS NULL OR site = %(site)s"
                " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5",
                {"site": site},
            ).fetchall()
        return [(plate, int(n)) for plate, n in counted]

    body = top(keys.viewer)
    assert [(p["plate_normalized"], p["passes"]) for p in body["plates"]] == kept(None)
    assert [(p["plate_normalized"], p["passes"]) for p in body["plates"][:3]] == [
        *(("TOP4444", 4), ("TOP3333", 3), ("TOP2222", 2))
    ]
    plates = {d.event.plate_normalized for d in stored} | {"TOP4444", "TOP3333", "TOP2222"}
    assert body["unique_plates"]["estimate"] == len(plates)
    walled = top(keys.site_1_only)
    assert [(p["plate_normalized"], p["passes"]) for p in walled["plates"]] == kept("site-1")
    with psycopg.connect(settings.db.conninfo()) as conn:
        audited = conn.execute(
            "SELECT result_count, purpose FROM audit_log WHERE path = '/stats/plates' ORDER BY id"
        ).fetchall()
    assert audited == [(5, "case 7"), (5, "case 7")]


def test_top_plates_need_a_purpose_when_the_api_requires_one(
    settings: Settings, keys: Keys, stored: list[DecodedEvent]
) -> None:
    strict = settings.model_copy(
        update={"api": settings.api.model_copy(update={"require_purpose": True})}
    )
    with TestClient(create_app(strict)) as client:
        refused = client.get("/stats/plates", headers=as_key(keys.viewer))
        assert refused.status_code == 422, refused.text
        answered = client.get("/stats/plates?purpose=x", headers=as_key(keys.viewer))
        assert answered.status_code == 200, answered.text


def test_a_rebuild_makes_the_same_sketches(
    client: TestClient, keys: Keys, stored: list[DecodedEvent], settings: Settings
) -> None:
    before = _stats(client, keys.viewer, bucket="day")
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        conn.execute("DELETE FROM plate_sketches")
    assert _stats(client, keys.viewer, bucket="day")["unique_plates"]["estimate"] == 0
    result = CliRunner().invoke(app, ["stats", "rebuild"], env=settings.as_environment())
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{len(before['series'])} sketches from {len(stored)} reads")
    assert _stats(client, keys.viewer, bucket="day") == before
