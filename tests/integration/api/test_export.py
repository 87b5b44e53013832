"""Exports (`format=csv`, `format=ndjson`) of /plates, /plates/search and /passes against real
PostgreSQL: every match once, in page order, chunk after chunk, up to the cap (and saying so),
inside the key's scope, with one audit row counting the rows."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from alpr_core.api import export
from alpr_core.api.app import create_app
from alpr_core.api.routes.passes import PassSummary
from alpr_core.api.schemas import PlateSummary
from alpr_core.config import Settings
from alpr_core.events.avro import DecodedEvent
from tests.integration.api.conftest import STORED, Keys, as_key
from tests.integration.api.test_attribute_filters import _pages
from tests.integration.api.test_passes import all_passes


def _csv(client: TestClient, token: str, path: str, **params: Any) -> list[dict[str, str]]:
    response = client.get(path, params={**params, "format": "csv"}, headers=as_key(token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


def _ndjson(client: TestClient, token: str, path: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(path, params={**params, "format": "ndjson"}, headers=as_key(token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    return [orjson.loads(line) for line in response.text.splitlines()]


def test_ndjson_holds_the_items_of_every_page_in_order(client: TestClient, keys: Keys) -> None:
    pages = _pages(client, "/plates")(keys.viewer, limit=31)
    assert len(pages) == STORED
    assert _ndjson(client, keys.viewer, "/plates") == pages


def test_csv_holds_every_read_once_newest_first(
    client: TestClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "CHUNK_ROWS", 7)  # many chunks, each its own page
    rows = _csv(client, keys.viewer, "/plates")
    pages = _pages(client, "/plates")(keys.viewer, limit=50)
    assert [int(row["id"]) for row in rows] == [item["id"] for item in pages]
    assert list(rows[0]) == list(PlateSummary.model_fields)
    first = pages[0]
    assert rows[0]["plate_text"] == first["plate_text"]
    assert rows[0]["timestamp"] == first["timestamp"]
    assert rows[0]["image_url"] == (first["image_url"] or "")


def test_an_export_stops_at_the_cap_and_says_so(
    settings: Settings, stored: list[DecodedEvent], keys: Keys
) -> None:
    capped = settings.model_copy(
        update={"api": settings.api.model_copy(update={"export_max_rows": 100})}
    )
    with TestClient(create_app(capped)) as client:
        response = client.get("/plates?format=ndjson", headers=as_key(keys.viewer))
        assert response.headers["x-export-truncated"] == "true"
        assert response.headers["x-export-max-rows"] == "100"
        items = [orjson.loads(line) for line in response.text.splitlines()]
        newest = _pages(client, "/plates")(keys.viewer, limit=100)[:100]
        assert items == newest
        site_2 = client.get("/plates?format=csv&site=site-2", headers=as_key(keys.viewer))
        assert site_2.headers["x-export-truncated"] == (
            "true" if _site_reads(stored) > 100 else "false"
        )


def _site_reads(stored: list[DecodedEvent]) -> int:
    return sum(d.event.site == "site-2" for d in stored)


def test_an_export_of_everything_is_not_truncated(client: TestClient, keys: Keys) -> None:
    response = client.get("/plates?format=csv", headers=as_key(keys.viewer))
    assert response.headers["x-export-truncated"] == "false"


def test_searches_export_what_they_find(
    client: TestClient, keys: Keys, stored: list[DecodedEvent]
) -> None:
    plate = stored[5].event.plate_normalized
    prefix = _csv(client, keys.viewer, "/plates/search", mode="prefix", plate_text=plate[:2])
    found = _pages(client, "/plates/search")(keys.viewer, mode="prefix", plate_text=plate[:2])
    assert [int(row["id"]) for row in prefix] == [item["id"] for item in found]
    assert prefix

    fuzzy = _ndjson(client, keys.viewer, "/plates/search", mode="fuzzy", plate_text=plate)
    ranked = client.get(
        "/plates/search",
        params={"mode": "fuzzy", "plate_text": plate, "limit": 1000},
        headers=as_key(keys.viewer),
    ).json()["items"]
    assert fuzzy == ranked
    assert plate in {item["plate_normalized"] for item in fuzzy}


def test_a_site_key_exports_only_its_site(
    client: TestClient, keys: Keys, stored: list[DecodedEvent]
) -> None:
    rows = _csv(client, keys.site_1_only, "/plates")
    assert {row["site"] for row in rows} == {"site-1"}
    assert len(rows) == sum(d.event.site == "site-1" for d in stored)
    passes = _ndjson(client, keys.site_1_only, "/passes")
    assert passes
    assert {p["site"] for p in passes} == {"site-1"}


def test_passes_export_with_nested_fields_as_dotted_columns(
    client: TestClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "CHUNK_ROWS", 11)
    rows = _csv(client, keys.viewer, "/passes")
    listed = all_passes(client, keys.viewer, limit=40)
    assert [int(row["id"]) for row in rows] == [p["id"] for p in listed]
    assert "vehicle.type" in rows[0]
    assert "best_read.plate_id" in rows[0]
    assert list(rows[0]) == export.columns_of(PassSummary)
    assert [row["vehicle.type"] for row in rows] == [p["vehicle"]["type"] or "" for p in listed]
    assert _ndjson(client, keys.viewer, "/passes") == listed


def test_each_export_is_audited_with_its_row_count(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    rows = _csv(client, keys.viewer, "/plates", camera_id="cam-001")
    with psycopg.connect(settings.db.conninfo()) as conn:
        audit = conn.execute(
            "SELECT path, params, result_count FROM audit_log"
            " WHERE params -> 'format' = '[\"csv\"]' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert audit is not None
    assert audit[0] == "/plates"
    assert audit[1]["camera_id"] == ["cam-001"]
    assert audit[2] == len(rows)


def test_an_unknown_format_is_a_422_problem(client: TestClient, keys: Keys) -> None:
    for path in (
        "/plates?format=xml",
        "/passes?format=xlsx",
        "/plates/search?plate_text=AB&format=pdf",
    ):
        response = client.get(path, headers=as_key(keys.viewer))
        assert response.status_code == 422, (path, response.text)


def test_only_readers_export(client: TestClient, keys: Keys) -> None:
    for path in ("/plates?format=csv", "/passes?format=ndjson"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=as_key(keys.ingest)).status_code == 403
        assert client.get(path, headers=as_key(keys.revoked)).status_code == 401
