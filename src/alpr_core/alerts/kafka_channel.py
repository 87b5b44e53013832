"""Every alert on the Kafka topic ``alpr.alerts`` (``ALERT_KAFKA_TOPIC``), Avro-encoded with its
schema registered in the schema registry (Confluent framing, subject ``<topic>-value``).

The key is the alert id, so one alert's messages keep their order; the header ``alpr-delivery``
is the idempotency key. A delivery counts once the broker acknowledged it (``acks=all``, an
idempotent producer); a message not acknowledged within the timeout is retried by the dispatcher,
so consumers may see a repeat and drop it by that key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.common._httpx_compat import httpx
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

from alpr_core.alerts.alert_record import alert_record, alert_schema_text
from alpr_core.config import Settings
from alpr_core.db.alert_delivery import ChannelName, DueDelivery
from alpr_core.kafka_clients import kafka_client_config, registry_client_config

DELIVERY_HEADER = "alpr-delivery"
# Failures of one message, retried later: the registry unreachable or refusing the schema, the
# producer's queue full or the client failing.
_SEND_ERRORS = (
    SerializationError,
    SchemaRegistryError,
    httpx.TransportError,
    KafkaException,
    BufferError,
)


class KafkaChannel:
    def __init__(self, settings: Settings, *, timeout_s: float) -> None:
        self._topic = settings.alert.kafka_topic
        self._timeout_s = timeout_s
        self._producer = Producer(
            kafka_client_config(settings.kafka)
            | {
                "client.id": "alpr-alerts",
                "enable.idempotence": True,
                "linger.ms": 5,
                "message.timeout.ms": int(timeout_s * 1000),
            }
        )
        registry = SchemaRegistryClient(registry_client_config(settings.registry))
        self._serialize = AvroSerializer(
            registry, alert_schema_text(), conf={"auto.register.schemas": True}
        )
        self._context = SerializationContext(self._topic, MessageField.VALUE)

    @property
    def name(self) -> ChannelName:
        return "kafka"

    def send(self, deliveries: Sequence[DueDelivery]) -> list[str | None]:
        outcomes: list[str | None] = ["not acknowledged"] * len(deliveries)
        for index, delivery in enumerate(deliveries):
            try:
                value = self._serialize(alert_record(delivery.payload), self._context)
                self._producer.produce(
                    self._topic,
                    key=str(delivery.payload["alert"]["id"]).encode(),
                    value=value,
                    headers=[(DELIVERY_HEADER, str(delivery.outbox_id).encode())],
                    on_delivery=_recorder(outcomes, index),
                )
            except _SEND_ERRORS as error:
                outcomes[index] = type(error).__name__
        # message.timeout.ms is below this: every message has its report when flush returns
        self._producer.flush(self._timeout_s + 5)
        return outcomes

    def close(self) -> None:
        self._producer.flush(self._timeout_s)


def _recorder(outcomes: list[str | None], index: int) -> Any:
    def record(error: KafkaError | None, _message: Message) -> None:
        outcomes[index] = None if error is None else f"kafka {error.name()}"

    return record
