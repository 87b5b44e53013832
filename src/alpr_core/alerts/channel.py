"""Where alerts are delivered (docs/decisions.md#alert-delivery): a channel sends a batch of due
deliveries and says, for each, None when the receiver took it or why not. The dispatcher
(jobs/alert_dispatch.py) records the outcomes; a channel keeps no state about deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from alpr_core.alerts.kafka_channel import KafkaChannel
from alpr_core.alerts.mqtt_channel import MqttChannel
from alpr_core.alerts.webhook_channel import WebhookChannel
from alpr_core.config import Settings
from alpr_core.db.alert_delivery import ChannelName, DueDelivery


class Channel(Protocol):
    @property
    def name(self) -> ChannelName: ...

    def send(self, deliveries: Sequence[DueDelivery]) -> list[str | None]: ...

    def close(self) -> None: ...


def delivery_channels(settings: Settings) -> list[Channel]:
    """The webhooks always; Kafka when the broker and ``ALERT_KAFKA_TOPIC`` are set; MQTT when
    ``MQTT_HOST`` is."""
    alert = settings.alert
    channels: list[Channel] = [
        WebhookChannel(timeout_s=alert.webhook_timeout_s, concurrency=alert.webhook_concurrency)
    ]
    if settings.kafka.bootstrap_servers and alert.kafka_topic:
        channels.append(KafkaChannel(settings, timeout_s=alert.webhook_timeout_s))
    if settings.mqtt.host:
        channels.append(MqttChannel(settings.mqtt, timeout_s=alert.webhook_timeout_s))
    return channels
