"""Alerts over MQTT, against a real Mosquitto broker (from Debian, infra/mosquitto.sh) of this
module's own, with a password file and no anonymous access: each alert once at QoS 1 on
``<prefix>/alerts/<priority>``, Home Assistant's discovery and status messages retained, and a
broker that was down, or refusing the client, means a later delivery, never a lost one."""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from bench.chaos.servers import free_ports
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from alpr_core.alerts.mqtt_channel import MqttChannel
from alpr_core.config import MqttSettings, Settings
from alpr_core.jobs.alert_dispatch import AlertDispatcher, DeliveryMetrics
from tests.integration.api.alerting import post, read
from tests.integration.conftest import wait_until
from tests.integration.delivery.conftest import Setup, post_while_failing, undelivered

PREFIX = "alpr-test"


@dataclass
class Broker:
    folder: Path
    port: int
    password: str
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.folder / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._listening, timeout_s=15, what="mosquitto listening")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None

    def settings(self, password: str | None = None) -> MqttSettings:
        return MqttSettings(
            host="127.0.0.1",
            port=self.port,
            username="alpr",
            password=SecretStr(password or self.password),
            client_id="alpr-core-test",
            topic_prefix=PREFIX,
        )

    def _listening(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    folder = tmp_path_factory.mktemp("mosquitto")
    password = secrets.token_urlsafe(18)
    passwords = folder / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), "alpr", password],
        check=True,
        capture_output=True,
    )
    port = free_ports().all()[0]
    (folder / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous false\n"
        f"password_file {passwords}\n"
        "persistence false\n"
        # run as root (CI), it would switch to the mosquitto user, who may not read tmp_path
        "user root\n"
    )
    started = Broker(folder, port, password)
    started.start()
    yield started
    started.stop()


@dataclass
class Listener:
    """A subscriber to everything, as Home Assistant or an operator's tool would be."""

    messages: list[tuple[str, bool, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, topic: str) -> list[Any]:
        with self.lock:
            return [payload for name, _retained, payload in self.messages if name == topic]


@pytest.fixture
def listener(broker: Broker) -> Iterator[Listener]:
    heard = Listener()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"listener-{time.time_ns()}")
    client.username_pw_set("alpr", broker.password)

    def received(_client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        text = message.payload.decode()
        payload = json.loads(text) if text.startswith("{") else text
        with heard.lock:
            heard.messages.append((message.topic, message.retain, payload))

    client.on_message = received
    client.connect("127.0.0.1", broker.port)
    client.subscribe([(f"{PREFIX}/#", 1), ("homeassistant/#", 1)])
    client.loop_start()
    yield heard
    client.loop_stop()
    client.disconnect()


def dispatcher(settings: Settings, mqtt_settings: MqttSettings) -> AlertDispatcher:
    channel = MqttChannel(mqtt_settings, timeout_s=2)
    metrics = DeliveryMetrics(CollectorRegistry())
    return AlertDispatcher(settings.db.conninfo(), metrics, [channel], poll_s=0.2)


def test_an_alert_is_published_with_home_assistant_discovery(
    settings: Settings, app: TestClient, setup: Setup, broker: Broker, listener: Listener
) -> None:
    job = dispatcher(settings, broker.settings())
    job.start()
    try:
        post(app, setup.ingest, read("AB12CDE"))
        wait_until(lambda: bool(listener.on(f"{PREFIX}/alerts/critical")), what="the alert message")
    finally:
        job.stop()
    [message] = listener.on(f"{PREFIX}/alerts/critical")
    assert message["event_type"] == "alert_opened"
    assert message["alert"]["plate_text"] == "AB12CDE"
    assert message["watchlist"]["id"] == setup.list_id
    assert undelivered(settings) == 0
    config_topic = "homeassistant/event/alpr-core-test/alerts_critical/config"
    [config] = listener.on(config_topic)
    assert config["state_topic"] == f"{PREFIX}/alerts/critical"
    assert config["event_types"] == ["alert_opened"]
    assert config["availability_topic"] == f"{PREFIX}/status"
    assert listener.on(f"{PREFIX}/status")[0] == "online"
    wait_until(  # said when the dispatcher stops
        lambda: listener.on(f"{PREFIX}/status")[-1] == "offline", what="the offline status"
    )


def test_a_refused_client_and_a_broker_down_delay_the_alert_without_losing_it(
    settings: Settings, app: TestClient, setup: Setup, broker: Broker
) -> None:
    refused = dispatcher(settings, broker.settings(password="wrong-password"))
    post_while_failing(refused, app, setup, settings)
    broker.stop()
    job = dispatcher(settings, broker.settings())
    job.start()
    try:
        time.sleep(2)  # the dispatcher tries, and fails, while the broker is down
        assert undelivered(settings) == 1
        broker.start()
        wait_until(lambda: undelivered(settings) == 0, timeout_s=60, what="the late delivery")
    finally:
        job.stop()
