"""Delivery survives the storage service killed (SIGKILL) between an alert's commit and its
receiver's answer, and a receiver down for a while: each alert arrives at least once, and a
repeat carries the same idempotency key (``X-ALPR-Delivery``). The service runs as a process of
its own (``python -m alpr_core storage``); the alerts are opened by reads posted to the API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from alpr_core.config import Settings
from tests.integration.api.alerting import post, read
from tests.integration.conftest import db_scalar, wait_until
from tests.integration.delivery.conftest import Setup, subscribe, undelivered

CAMERAS = ("cam-001", "cam-002", "cam-003")


@dataclass
class Receiver:
    """Records each request's delivery id; while ``hold`` is set, keeps requests unanswered."""

    port: int
    hold: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    deliveries: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                state.deliveries.append(self.headers["X-ALPR-Delivery"])
                if state.hold.is_set():
                    state.release.wait(60)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    made = Receiver(port)
    yield made
    made.stop()


def storage_process(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **settings.as_environment(),
        "ALERT_KAFKA_TOPIC": "",  # webhooks only
        "ALERT_DISPATCH_POLL_S": "0.2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "alpr_core", "storage"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def outbox_ids(settings: Settings) -> set[str]:
    with psycopg.connect(settings.db.conninfo()) as conn:
        return {str(row[0]) for row in conn.execute("SELECT id FROM alert_outbox")}


def test_a_service_killed_mid_delivery_delivers_again_after_a_restart(
    settings: Settings, app: TestClient, setup: Setup, receiver: Receiver
) -> None:
    subscribe(app, setup, receiver.url)
    receiver.hold.set()
    receiver.start()
    post(app, setup.ingest, *(read("AB12CDE", camera=camera) for camera in CAMERAS))
    first = storage_process(settings)
    try:
        wait_until(lambda: len(receiver.deliveries) >= 1, what="a delivery in flight")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    in_flight = set(receiver.deliveries)
    assert undelivered(settings) == len(CAMERAS)  # nothing was marked: the answer never came
    receiver.hold.clear()
    receiver.release.set()
    second = storage_process(settings)
    try:
        wait_until(lambda: undelivered(settings) == 0, what="every alert delivered")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)
    assert set(receiver.deliveries) == outbox_ids(settings)
    assert len(outbox_ids(settings)) == len(CAMERAS)
    for delivery in in_flight:  # the repeat carries the same key
        assert receiver.deliveries.count(delivery) >= 2


def test_a_receiver_down_for_a_while_gets_every_alert_when_it_is_back(
    settings: Settings, app: TestClient, setup: Setup, receiver: Receiver
) -> None:
    subscribe(app, setup, receiver.url)  # nothing listens on its port yet
    service = storage_process(settings)
    try:
        post(app, setup.ingest, *(read("AB12CDE", camera=camera) for camera in CAMERAS))
        wait_until(
            lambda: db_scalar(settings, "SELECT min(attempts) FROM alert_deliveries") >= 2,
            what="each delivery failed twice",
        )
        receiver.start()
        wait_until(lambda: undelivered(settings) == 0, what="every alert delivered")
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=60)
    assert set(receiver.deliveries) == outbox_ids(settings)
    assert len(receiver.deliveries) == len(CAMERAS)
