"""Reads of listed plates posted through HTTP ingest: the helpers of the alert tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from alpr_core.config import Settings
from tests.integration.api.conftest import as_key
from tests.integration.api.test_events import event


def listed(settings: Settings, plate: str, sites: list[str] | None = None, **entry: Any) -> str:
    """A new list (of ``sites``) holding one entry for ``plate``; returns the entry's id."""
    fields = {"match_mode": "exact", "max_distance": 0, **entry}
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        row = conn.execute(
            "WITH l AS (INSERT INTO watchlists (name, priority, owner, sites)"
            " VALUES ('stolen', 'critical', 'control room', %(sites)s) RETURNING id)"
            " INSERT INTO watchlist_entries (watchlist_id, plate, plate_normalized, match_mode,"
            " max_distance, cameras, valid_until) SELECT id, %(plate)s, %(plate)s,"
            " %(match_mode)s, %(max_distance)s, %(cameras)s, %(valid_until)s FROM l RETURNING id",
            {"plate": plate, "sites": sites, "cameras": None, "valid_until": None, **fields},
        ).fetchone()
    assert row is not None
    return str(row[0])


def read(plate: str, camera: str = "cam-001", at: datetime | None = None, **changes: Any) -> Any:
    captured = at or datetime.now(UTC) - timedelta(minutes=1)
    return event(
        camera_id=camera,
        captured_at=captured.isoformat(),
        plate={"text": plate, "normalized_text": plate, "confidence": 0.9, "region": "GB"},
        **changes,
    )


def post(client: TestClient, token: str, *events: Any) -> None:
    answer = client.post("/events", json=list(events), headers=as_key(token))
    assert answer.status_code == 202, answer.text
    assert answer.json()["rejected"] == []


def alerts(settings: Settings) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.db.conninfo()) as conn:
        return conn.execute(
            "SELECT a.entry_id::text, a.camera_id, a.read_count, a.status,"
            " (SELECT count(*) FROM alert_reads r WHERE r.alert_id = a.id),"
            " (SELECT count(*) FROM alert_outbox o WHERE o.alert_id = a.id)"
            " FROM alerts a ORDER BY a.id"
        ).fetchall()
