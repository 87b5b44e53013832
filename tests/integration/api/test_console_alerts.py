"""The console's alerts inbox on the real servers: an alert opened by a read over HTTP ingest
shows with its next step, and acknowledging then confirming it goes through ``POST /alerts``
with the session's CSRF token, recording who did it and the note."""

from __future__ import annotations

import psycopg
from fastapi.testclient import TestClient

from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key
from tests.integration.api.alerting import listed, post, read
from tests.integration.api.test_console import sign_in


def test_an_alert_is_acknowledged_then_confirmed_from_the_inbox(
    alerting_client: TestClient, settings: Settings, ingest_token: str
) -> None:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        operator = create_key(conn, "night operator", "viewer")[1]
    listed(settings, "AB12CDE")
    post(alerting_client, ingest_token, read("AB12CDE"))
    csrf = sign_in(alerting_client, operator)
    inbox = alerting_client.get("/console/alerts")
    assert inbox.status_code == 200
    assert "AB12CDE" in inbox.text
    assert 'value="acknowledge"' in inbox.text
    assert 'value="confirm"' not in inbox.text
    alert_id = _alert_id(settings)
    forged = alerting_client.post(
        f"/console/alerts/{alert_id}", data={"csrf": "x", "action": "acknowledge"}
    )
    assert forged.status_code == 403
    acknowledged = alerting_client.post(
        f"/console/alerts/{alert_id}",
        data={"csrf": csrf, "action": "acknowledge", "note": "unit 4 sent"},
    )
    assert acknowledged.status_code == 200  # the inbox again, after the redirect
    assert "acknowledged by night operator" in acknowledged.text
    assert 'value="confirm"' in acknowledged.text
    out_of_order = alerting_client.post(
        f"/console/alerts/{alert_id}", data={"csrf": csrf, "action": "acknowledge"}
    )
    assert out_of_order.status_code == 409
    confirmed = alerting_client.post(
        f"/console/alerts/{alert_id}", data={"csrf": csrf, "action": "confirm"}
    )
    assert confirmed.status_code == 200
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute(
            "SELECT status, acknowledged_by, resolved_by, note FROM alerts WHERE id = %s",
            (alert_id,),
        ).fetchone()
    assert row == ("confirmed", "night operator", "night operator", "unit 4 sent")
    unknown = alerting_client.post(
        f"/console/alerts/{alert_id}", data={"csrf": csrf, "action": "../../plates"}
    )
    assert unknown.status_code == 422


def _alert_id(settings: Settings) -> int:
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute("SELECT id FROM alerts").fetchone()
    assert row is not None
    return int(row[0])
