"""The console's watchlist pages on the real servers: a list keeper sees its lists and their
entries, imports a CSV file through ``POST /watchlists/{id}/entries.csv`` and reads the per-line
report; importing again changes nothing; a viewer is refused."""

from __future__ import annotations

import re
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key
from tests.integration.api.alerting import listed
from tests.integration.api.test_console import sign_in

CSV = (
    b"plate,match_mode,max_distance,reason,reference\n"
    b"AB12CDE,exact,0,stolen,case 1\n"
    b"XY99*,wildcard,0,fleet,case 2\n"
    b",exact,0,no plate,case 3\n"
)


def test_a_list_keeper_imports_entries_and_reads_the_report(
    alerting_client: TestClient, settings: Settings
) -> None:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        keeper = create_key(conn, "list keeper", "watchlist")[1]
        viewer = create_key(conn, "operator", "viewer")[1]
    listed(settings, "ZZ00ZZZ")
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute("SELECT id FROM watchlists").fetchone()
    assert row is not None
    list_id = row[0]
    csrf = sign_in(alerting_client, keeper)
    lists = alerting_client.get("/console/watchlists")
    assert lists.status_code == 200
    assert f'href="/console/watchlists/{list_id}"' in lists.text
    page = alerting_client.get(f"/console/watchlists/{list_id}")
    assert "ZZ00ZZZ" in page.text
    imported = _import(alerting_client, list_id, csrf)
    assert imported.status_code == 200, imported.text
    assert "2 created" in imported.text
    assert re.search(r"Line 4: [^<]*plate", imported.text)
    assert {"AB12CDE", "XY99*", "ZZ00ZZZ"} <= set(
        re.findall(r'class="plate">([^<]+)<', imported.text)
    )
    again = _import(alerting_client, list_id, csrf)
    assert "0 created, 0 updated, 2 unchanged" in again.text
    forged = _import(alerting_client, list_id, "forged")
    assert forged.status_code == 403
    with psycopg.connect(settings.db.conninfo()) as conn:
        entries = conn.execute("SELECT count(*) FROM watchlist_entries").fetchone()
    assert entries == (3,)
    alerting_client.cookies.clear()
    sign_in(alerting_client, viewer)
    refused = alerting_client.get("/console/watchlists")
    assert refused.status_code == 403
    assert "cannot manage watchlists" in refused.text


def _import(client: TestClient, list_id: object, csrf: str) -> Any:  # TestClient's response
    return client.post(
        f"/console/watchlists/{list_id}/import",
        data={"csrf": csrf},
        files={"file": ("entries.csv", CSV, "text/csv")},
    )
