"""/stats against real PostgreSQL: the hourly rollups the insert trigger keeps (migration 0026)
give what a brute-force count of the stored reads gives, per hour and day, per camera, site and
in all; a replay changes nothing; a site key counts only its site; exports and audit."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from alpr_core.config import Settings
from alpr_core.db.cameras import CameraSpec, upsert_camera
from alpr_core.events.avro import DecodedEvent
from alpr_core.images.object_store import ObjectImageStore, edge_uploads_of
from alpr_core.storage.sink import DetectionSink
from tests.integration.api.conftest import Keys, as_key
from tests.integration.stats_model import assert_same_series, expected_series


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
def test_stats_are_the_counts_of_the_stored_reads(
    client: TestClient, keys: Keys, stored: list[DecodedEvent], bucket: str, by: str
) -> None:
    body = _stats(client, keys.viewer, bucket=bucket, by=by)
    want = expected_series((d.event for d in stored), bucket, by)
    assert_same_series(_series(body), want)
    assert body["reads"] == len(stored)
    assert len(want) > (1 if bucket == "hour" else 0)  # the simulated reads span hours


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
    assert list(rows[0]) == ["at", "camera_id", "site", "reads", "mean_confidence"]
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
