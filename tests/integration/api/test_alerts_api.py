"""``/alerts`` against the real PostgreSQL, over alerts raised by HTTP ingest: pages by cursor,
filters, each alert's reads with their crops, the workflow's order, scopes and the audit."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from alpr_core.api import export
from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key
from tests.integration.api.alerting import listed, post, read
from tests.integration.api.conftest import as_key
from tests.integration.conftest import db_scalar


@pytest.fixture
def viewers(settings: Settings) -> dict[str, str]:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        return {
            "all": create_key(conn, "operator", "viewer")[1],
            "site-2": create_key(conn, "site 2 guard", "viewer", sites=["site-2"])[1],
            "cam-002": create_key(conn, "cam 2 guard", "viewer", cameras=["cam-002"])[1],
            "lists": create_key(conn, "list keeper", "watchlist")[1],
        }


def three_passes(client: TestClient, settings: Settings, ingest_token: str) -> None:
    listed(settings, "AB12CDE")
    start = datetime.now(UTC) - timedelta(hours=3)
    post(client, ingest_token, read("AB12CDE", at=start, track_id="t1"))
    post(client, ingest_token, read("AB12CDE", at=start + timedelta(seconds=5), track_id="t1"))
    post(client, ingest_token, read("AB12CDE", camera="cam-002", at=start + timedelta(hours=1)))
    post(client, ingest_token, read("AB12CDE", at=start + timedelta(hours=2), track_id="t9"))


def test_pages_filters_and_reads(
    alerting_client: TestClient, settings: Settings, ingest_token: str, viewers: dict[str, str]
) -> None:
    client = alerting_client
    three_passes(client, settings, ingest_token)
    me = as_key(viewers["all"])
    first = client.get("/alerts?limit=2", headers=me).json()
    rest = client.get(f"/alerts?limit=2&cursor={first['next_cursor']}", headers=me).json()
    items = first["items"] + rest["items"]
    assert rest["next_cursor"] is None
    assert [item["camera_id"] for item in items] == ["cam-001", "cam-002", "cam-001"]
    assert [item["read_count"] for item in items] == [1, 1, 2]
    assert {item["priority"] for item in items} == {"critical"}

    on_2 = client.get("/alerts?camera_id=cam-002", headers=me).json()["items"]
    assert len(on_2) == 1
    detail = client.get(f"/alerts/{items[2]['id']}", headers=me).json()
    assert [r["plate_text"] for r in detail["reads"]] == ["AB12CDE", "AB12CDE"]
    plate_id = detail["reads"][0]["plate_id"]
    assert client.get(f"/plates/{plate_id}", headers=me).status_code == 200
    audited = db_scalar(
        settings, "SELECT count(*) FROM audit_log WHERE path LIKE '/alerts%%' AND status = 200"
    )
    assert audited == 4


def test_acknowledge_then_confirm_or_dismiss(
    alerting_client: TestClient, settings: Settings, ingest_token: str, viewers: dict[str, str]
) -> None:
    client = alerting_client
    three_passes(client, settings, ingest_token)
    me = as_key(viewers["all"])
    one, other = (item["id"] for item in client.get("/alerts", headers=me).json()["items"][:2])

    early = client.post(f"/alerts/{one}/confirm", json={}, headers=me)
    assert early.status_code == 409
    acked = client.post(f"/alerts/{one}/acknowledge", json={"note": "on it"}, headers=me).json()
    assert (acked["status"], acked["acknowledged_by"], acked["note"]) == (
        "acknowledged",
        "operator",
        "on it",
    )
    confirmed = client.post(f"/alerts/{one}/confirm", json={}, headers=me).json()
    assert (confirmed["status"], confirmed["resolved_by"], confirmed["note"]) == (
        "confirmed",
        "operator",
        "on it",
    )
    assert client.post(f"/alerts/{one}/dismiss", json={}, headers=me).status_code == 409

    client.post(f"/alerts/{other}/acknowledge", json={}, headers=me)
    dismissed = client.post(f"/alerts/{other}/dismiss", json={"note": "misread"}, headers=me)
    assert dismissed.json()["status"] == "dismissed"
    by_status = client.get("/alerts?status=dismissed", headers=me).json()["items"]
    assert [item["id"] for item in by_status] == [other]
    bad = client.post(f"/alerts/{other}/dismiss", json={"note": "x", "more": 1}, headers=me)
    assert bad.status_code == 422


def test_scoped_keys_see_and_change_only_their_alerts(
    alerting_client: TestClient, settings: Settings, ingest_token: str, viewers: dict[str, str]
) -> None:
    client = alerting_client
    three_passes(client, settings, ingest_token)
    everything = client.get("/alerts", headers=as_key(viewers["all"])).json()["items"]
    on_1 = next(item["id"] for item in everything if item["camera_id"] == "cam-001")

    assert client.get("/alerts", headers=as_key(viewers["site-2"])).json()["items"] == []
    camera_2 = client.get("/alerts", headers=as_key(viewers["cam-002"])).json()["items"]
    assert [item["camera_id"] for item in camera_2] == ["cam-002"]
    for token in (viewers["site-2"], viewers["cam-002"]):
        assert client.get(f"/alerts/{on_1}", headers=as_key(token)).status_code == 404
        change = client.post(f"/alerts/{on_1}/acknowledge", json={}, headers=as_key(token))
        assert change.status_code == 404
    assert client.get("/alerts", headers=as_key(viewers["lists"])).status_code == 403


def test_alerts_export_as_files_inside_the_scope(
    alerting_client: TestClient,
    settings: Settings,
    ingest_token: str,
    viewers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)  # two pages
    client = alerting_client
    three_passes(client, settings, ingest_token)
    me = as_key(viewers["all"])
    page = client.get("/alerts", headers=me).json()["items"]
    ndjson = client.get("/alerts?format=ndjson", headers=me)
    assert ndjson.headers["x-export-truncated"] == "false"
    assert [orjson.loads(line) for line in ndjson.text.splitlines()] == page
    rows = list(csv.DictReader(io.StringIO(client.get("/alerts?format=csv", headers=me).text)))
    assert [int(row["id"]) for row in rows] == [item["id"] for item in page]
    assert rows[0]["plate_normalized"] == "AB12CDE"
    cam_2 = client.get("/alerts?format=csv", headers=as_key(viewers["cam-002"])).text
    assert [row["camera_id"] for row in csv.DictReader(io.StringIO(cam_2))] == ["cam-002"]
    none = client.get("/alerts?format=csv", headers=as_key(viewers["site-2"])).text
    assert none.splitlines() == [",".join(row for row in rows[0])]  # the header alone
    with psycopg.connect(settings.db.conninfo()) as conn:
        counts = conn.execute(
            "SELECT result_count FROM audit_log WHERE path = '/alerts' AND params ? 'format'"
            " ORDER BY id"
        ).fetchall()
    assert [count for (count,) in counts] == [3, 3, 1, 0]


@pytest.mark.parametrize("query", ["camera_id=%00", "site=a%00b&format=csv"])
def test_a_nul_in_a_filter_is_a_422_problem(
    alerting_client: TestClient, viewers: dict[str, str], query: str
) -> None:
    response = alerting_client.get(f"/alerts?{query}", headers=as_key(viewers["all"]))
    assert response.status_code == 422, response.text
