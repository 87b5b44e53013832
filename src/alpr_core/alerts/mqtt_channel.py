"""Every alert published to an MQTT broker (``MQTT_HOST``), at QoS 1, on the topics of
``mqtt_topics.py``, with Home Assistant discovery.

A delivery counts once the broker acknowledged it (PUBACK). While the client is not connected,
deliveries fail and the dispatcher retries them with backoff; paho reconnects in the background,
and on each connection the retained status and discovery messages are published again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from alpr_core.alerts import mqtt_topics
from alpr_core.config import MqttSettings
from alpr_core.db.alert_delivery import ChannelName, DueDelivery

log = structlog.get_logger("alpr.alerts.mqtt")


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class MqttChannel:
    def __init__(self, settings: MqttSettings, *, timeout_s: float) -> None:
        self._settings = settings
        self._timeout_s = timeout_s
        self._status = mqtt_topics.status_topic(settings.topic_prefix)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=settings.client_id)
        if settings.username:
            client.username_pw_set(settings.username, settings.password.get_secret_value())
        if settings.tls:
            client.tls_set(ca_certs=settings.ca_location or None)
        client.will_set(self._status, mqtt_topics.OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._connected
        client.connect_async(settings.host, settings.port, keepalive=30)
        client.loop_start()
        self._client = client

    @property
    def name(self) -> ChannelName:
        return "mqtt"

    def send(self, deliveries: Sequence[DueDelivery]) -> list[str | None]:
        if not self._client.is_connected():
            return ["mqtt not connected"] * len(deliveries)
        published = [
            self._client.publish(
                mqtt_topics.alert_topic(
                    self._settings.topic_prefix, d.payload["alert"]["priority"]
                ),
                _json(mqtt_topics.alert_message(d.payload)),
                qos=1,
            )
            for d in deliveries
        ]
        deadline = time.monotonic() + self._timeout_s
        return [_outcome(info, deadline) for info in published]

    def close(self) -> None:
        if self._client.is_connected():
            said = self._client.publish(self._status, mqtt_topics.OFFLINE, qos=1, retain=True)
            _outcome(said, time.monotonic() + self._timeout_s)  # before the connection goes
        self._client.disconnect()
        self._client.loop_stop()

    def _connected(
        self,
        client: mqtt.Client,
        _userdata: Any,
        _flags: Any,
        reason: ReasonCode,
        _properties: Any,
    ) -> None:
        if reason.is_failure:
            log.warning("mqtt broker refused the connection", reason=str(reason))
            return
        client.publish(self._status, mqtt_topics.ONLINE, qos=1, retain=True)
        for topic, config in mqtt_topics.discovery_messages(
            self._settings.topic_prefix, self._settings.discovery_prefix, self._settings.client_id
        ):
            client.publish(topic, _json(config), qos=1, retain=True)


def _outcome(info: mqtt.MQTTMessageInfo, deadline: float) -> str | None:
    if info.rc != mqtt.MQTT_ERR_SUCCESS:
        return f"mqtt {mqtt.error_string(info.rc)}"
    try:
        info.wait_for_publish(max(deadline - time.monotonic(), 0.0))
    except (RuntimeError, ValueError) as error:
        return f"mqtt {error}"
    return None if info.is_published() else "mqtt not acknowledged"
