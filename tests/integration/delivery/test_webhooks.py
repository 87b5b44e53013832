"""Alert delivery to webhooks against the real PostgreSQL and a real HTTP receiver: signed,
delivered once per alert even with two dispatchers, retried after failures, switched off after
a run of them and on again by the API, and delivered after a dispatcher that was down comes up."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from alpr_core.alerts.signing import verify
from alpr_core.alerts.webhook_channel import WebhookChannel
from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.db.alert_delivery import backlog
from alpr_core.images.object_store import ObjectImageStore
from alpr_core.jobs.alert_dispatch import AlertDispatcher, DeliveryMetrics
from tests.integration.api.alerting import post, read
from tests.integration.api.conftest import as_key
from tests.integration.conftest import db_scalar, wait_until
from tests.integration.delivery.conftest import Setup, subscribe


@dataclass
class Receiver:
    url: str
    failures_left: int = 0
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            failing = state.failures_left > 0
            state.failures_left -= failing
            if not failing:
                state.requests.append((dict(self.headers.items()), body))
            self.send_response(500 if failing else 204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()


def dispatcher(settings: Settings, registry: CollectorRegistry | None = None) -> AlertDispatcher:
    metrics = DeliveryMetrics(registry or CollectorRegistry())
    channels = [WebhookChannel(timeout_s=2, concurrency=2)]
    return AlertDispatcher(settings.db.conninfo(), metrics, channels, poll_s=0.2)


def test_an_alert_is_posted_signed_once_with_two_dispatchers(
    settings: Settings, app: TestClient, setup: Setup, receiver: Receiver
) -> None:
    _, secret = subscribe(app, setup, receiver.url)
    registries = CollectorRegistry(), CollectorRegistry()
    first, second = (dispatcher(settings, registry) for registry in registries)
    first.start()
    second.start()
    try:
        post(app, setup.ingest, read("AB12CDE"))
        wait_until(lambda: len(receiver.requests) == 1, what="a delivery")
        time.sleep(1)  # a second dispatcher, or a second delivery, would have posted by now
    finally:
        first.stop()
        second.stop()
    assert len(receiver.requests) == 1
    pending = [r.get_sample_value("alpr_alert_deliveries_pending") for r in registries]
    assert 0.0 in pending  # the leader's report: nothing waits
    headers, body = receiver.requests[0]
    timestamp = int(headers["X-ALPR-Timestamp"])
    assert verify(secret, timestamp, body, headers["X-ALPR-Signature"], int(time.time()), 300)
    payload = json.loads(body)
    assert payload["alert"]["plate_text"] == "AB12CDE"
    assert payload["entry"]["reason"] == "stolen"
    assert headers["X-ALPR-Delivery"] == str(payload["delivery"])
    assert (
        db_scalar(settings, "SELECT count(*) FROM alert_deliveries WHERE delivered_at IS NOT NULL")
        == 1
    )


def test_failures_are_retried_and_a_down_dispatcher_catches_up(
    settings: Settings, app: TestClient, setup: Setup, receiver: Receiver
) -> None:
    subscribe(app, setup, receiver.url)
    post(app, setup.ingest, read("AB12CDE"))  # no dispatcher runs yet: the outbox holds it
    with psycopg.connect(settings.db.conninfo()) as conn:
        waiting, oldest_s = backlog(conn)
    assert waiting == 1
    assert oldest_s > 0
    receiver.failures_left = 2
    job = dispatcher(settings)
    job.start()
    try:
        wait_until(lambda: len(receiver.requests) == 1, timeout_s=30, what="a retried delivery")
    finally:
        job.stop()
    assert db_scalar(settings, "SELECT attempts FROM alert_deliveries") == 3


def test_a_failing_webhook_is_switched_off_and_on_again(
    settings: Settings, app: TestClient, setup: Setup, receiver: Receiver
) -> None:
    webhook_id, _ = subscribe(app, setup, receiver.url, max_failures=2)
    receiver.failures_left = 1000
    registry = CollectorRegistry()
    job = dispatcher(settings, registry)
    job.start()
    try:
        post(app, setup.ingest, read("AB12CDE"))
        wait_until(
            lambda: registry.get_sample_value("alpr_webhooks_disabled_total") == 1.0,
            timeout_s=30,
            what="the webhook switched off",
        )
        hooks = app.get(f"/watchlists/{setup.list_id}/webhooks", headers=as_key(setup.keeper))
        assert hooks.json()["items"][0]["enabled"] is False
        receiver.failures_left = 0
        on = app.patch(
            f"/watchlists/{setup.list_id}/webhooks/{webhook_id}",
            json={"enabled": True},
            headers=as_key(setup.keeper),
        )
        assert on.json()["enabled"] is True
        wait_until(lambda: len(receiver.requests) == 1, timeout_s=30, what="delivery resumed")
    finally:
        job.stop()


def test_webhook_urls_are_checked(
    settings: Settings, images: ObjectImageStore, setup: Setup
) -> None:
    with TestClient(create_app(settings)) as strict:  # plain HTTP not allowed by default
        for url in ("http://example.org/x", "ftp://example.org/x", "https://u:p@example.org/x"):
            answer = strict.post(
                f"/watchlists/{setup.list_id}/webhooks",
                json={"url": url},
                headers=as_key(setup.keeper),
            )
            assert answer.status_code == 422, url
