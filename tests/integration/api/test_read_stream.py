"""``GET /plates/stream`` on a real server: a read posted over HTTP reaches the open streams whose
key's scope holds it, once, with its crop's URL; reads stored before the stream opened and reads
of other sites do not; opening a stream is audited."""

from __future__ import annotations

import base64
import json
import socket
import time

import httpx
import psycopg

from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key
from alpr_core.images.object_store import ObjectImageStore
from tests.integration.api.alerting import read
from tests.integration.api.conftest import as_key
from tests.integration.conftest import wait_until
from tests.integration.helpers import event_stream, running_api
from tests.unit.factories import image_bytes


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_new_reads_reach_the_streams_that_may_see_them(
    settings: Settings, images: ObjectImageStore
) -> None:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        viewer = create_key(conn, "operator", "viewer")[1]
        site_1 = create_key(conn, "site 1 guard", "viewer", sites=["site-1"])[1]
        ingest = create_key(conn, "edge", "ingest")[1]
    site = {"site": "site-2", "host": "edge-9"}
    with running_api(settings, _free_port()) as base:
        before = httpx.post(f"{base}/events", json=[read("OLD123")], headers=as_key(ingest))
        assert before.status_code == 202
        url = f"{base}/plates/stream"
        with event_stream(url, as_key(viewer)) as mine, event_stream(url, as_key(site_1)) as theirs:
            time.sleep(1.5)  # both streams have looked once
            crop = base64.b64encode(image_bytes()).decode()
            posted = httpx.post(
                f"{base}/events",
                json=[read("LIVE123", node=site, plate_image=crop)],
                headers=as_key(ingest),
            )
            assert posted.status_code == 202, posted.text
            wait_until(lambda: len(mine) == 1, timeout_s=20, what="the read on the stream")
            time.sleep(2.5)  # a second and a third look send nothing again
        assert [event["event"] for event in mine] == ["read"]
        sent = json.loads(mine[0]["data"])
        assert (sent["plate_text"], sent["site"]) == ("LIVE123", "site-2")
        assert mine[0]["id"] == str(sent["id"])
        assert sent["image_url"] == f"/plates/{sent['id']}/image"
        assert theirs == []
    with psycopg.connect(settings.db.conninfo()) as conn:
        opened = conn.execute(
            "SELECT key_name FROM audit_log WHERE path = '/plates/stream' ORDER BY key_name"
        ).fetchall()
    assert opened == [("operator",), ("site 1 guard",)]
