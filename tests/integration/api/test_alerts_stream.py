"""``GET /alerts/stream`` on a real server: an alert opened by HTTP ingest reaches an open stream
as a Server-Sent Event, only a stream whose key's scope holds it, and a stream resumed with
``Last-Event-ID`` is sent what it missed."""

from __future__ import annotations

import json
import socket
import time
from contextlib import AbstractContextManager
from typing import Any

import httpx
import psycopg

from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key
from alpr_core.images.object_store import ObjectImageStore
from tests.integration.api.alerting import listed, read
from tests.integration.api.conftest import as_key
from tests.integration.conftest import wait_until
from tests.integration.helpers import event_stream, running_api


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stream(base: str, token: str, **headers: str) -> AbstractContextManager[list[dict[str, Any]]]:
    return event_stream(f"{base}/alerts/stream", as_key(token) | headers)


def test_alerts_reach_the_streams_that_may_see_them(
    settings: Settings, images: ObjectImageStore
) -> None:
    alert = settings.alert.model_copy(update={"refresh_s": 0})
    fresh = settings.model_copy(update={"alert": alert})
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        viewer = create_key(conn, "operator", "viewer")[1]
        elsewhere = create_key(conn, "site 2 guard", "viewer", sites=["site-2"])[1]
        ingest = create_key(conn, "edge", "ingest")[1]
    listed(settings, "AB12CDE")
    with running_api(fresh, _free_port()) as base:
        with stream(base, viewer) as mine, stream(base, elsewhere) as theirs:
            time.sleep(0.5)  # both streams listen
            posted = httpx.post(f"{base}/events", json=[read("AB12CDE")], headers=as_key(ingest))
            assert posted.status_code == 202
            wait_until(lambda: len(mine) == 1, timeout_s=20, what="the alert on the stream")
            time.sleep(1)
        assert mine[0]["event"] == "alert"
        assert json.loads(mine[0]["data"])["plate_text"] == "AB12CDE"
        assert theirs == []

        before = str(int(mine[0]["id"]) - 1)
        with stream(base, viewer, **{"Last-Event-ID": before}) as resumed:
            wait_until(lambda: len(resumed) == 1, timeout_s=20, what="the resumed stream")
        assert resumed[0]["id"] == mine[0]["id"]
