"""Alerts on a Kafka topic, against the real broker and schema registry: each alert once, Avro
with its schema registered under ``<topic>-value``, keyed by the alert id with the idempotency
key in a header; a broker out of reach means a later delivery, never a lost one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from alpr_core.alerts.kafka_channel import DELIVERY_HEADER, KafkaChannel
from alpr_core.config import Settings
from alpr_core.jobs.alert_dispatch import AlertDispatcher, DeliveryMetrics
from alpr_core.kafka_clients import kafka_client_config, registry_client_config
from tests.integration.api.alerting import post, read
from tests.integration.conftest import db_scalar, wait_until
from tests.integration.delivery.conftest import Setup, post_while_failing, undelivered


@pytest.fixture
def alert_settings(settings: Settings) -> Iterator[Settings]:
    """The settings with a topic of this test's own."""
    topic = f"alpr.alerts.test-{uuid.uuid4().hex[:12]}"
    admin = AdminClient(kafka_client_config(settings.kafka))
    for future in admin.create_topics([NewTopic(topic, num_partitions=1)]).values():
        future.result(timeout=30)
    yield settings.model_copy(
        update={"alert": settings.alert.model_copy(update={"kafka_topic": topic})}
    )
    admin.delete_topics([topic])


def dispatcher(settings: Settings, registry: CollectorRegistry) -> AlertDispatcher:
    channel = KafkaChannel(settings, timeout_s=2)
    return AlertDispatcher(settings.db.conninfo(), DeliveryMetrics(registry), [channel], poll_s=0.2)


def consume_all(settings: Settings, count: int) -> list[tuple[Any, dict[str, Any]]]:
    """The first ``count`` messages of the topic as (message, decoded value)."""
    topic = settings.alert.kafka_topic
    consumer = Consumer(
        kafka_client_config(settings.kafka)
        | {"group.id": f"test-{uuid.uuid4()}", "auto.offset.reset": "earliest"}
    )
    decode = AvroDeserializer(SchemaRegistryClient(registry_client_config(settings.registry)))
    consumer.subscribe([topic])
    found: list[tuple[Any, dict[str, Any]]] = []
    try:

        def more() -> bool:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                value = decode(message.value(), SerializationContext(topic, MessageField.VALUE))
                found.append((message, value))
            return len(found) >= count

        wait_until(more, timeout_s=30, what=f"{count} alert messages")
    finally:
        consumer.close()
    return found


def test_each_alert_is_one_avro_message_with_its_schema_registered(
    alert_settings: Settings, app: TestClient, setup: Setup
) -> None:
    registry = CollectorRegistry()
    job = dispatcher(alert_settings, registry)
    job.start()
    try:
        post(app, setup.ingest, read("AB12CDE"), read("AB12CDE", camera="cam-002"))
        wait_until(
            lambda: (
                registry.get_sample_value(
                    "alpr_alert_deliveries_total", {"channel": "kafka", "outcome": "delivered"}
                )
                == 2.0
            ),
            what="two deliveries",
        )
    finally:
        job.stop()
    messages = consume_all(alert_settings, 2)
    by_camera = {value["camera_id"]: (message, value) for message, value in messages}
    assert set(by_camera) == {"cam-001", "cam-002"}
    message, value = by_camera["cam-002"]
    assert value["plate_text"] == "AB12CDE"
    assert value["priority"] == "critical"
    assert value["watchlist_name"] == "Stolen"
    assert value["entry"]["reason"] == "stolen"
    assert value["first_seen"].tzinfo is not None
    assert message.key() == str(value["alert_id"]).encode()
    assert dict(message.headers())[DELIVERY_HEADER] == str(value["delivery"]).encode()
    subject = f"{alert_settings.alert.kafka_topic}-value"
    registered = SchemaRegistryClient(registry_client_config(alert_settings.registry))
    assert registered.get_latest_version(subject).schema.schema_str is not None
    assert (
        db_scalar(alert_settings, "SELECT count(*) FROM alert_deliveries WHERE channel = 'kafka'")
        == 2
    )


def test_alerts_wait_for_a_broker_out_of_reach(
    alert_settings: Settings, app: TestClient, setup: Setup
) -> None:
    unreachable = alert_settings.kafka.model_copy(update={"bootstrap_servers": "127.0.0.1:9"})
    down = dispatcher(alert_settings.model_copy(update={"kafka": unreachable}), CollectorRegistry())
    post_while_failing(down, app, setup, alert_settings)
    up = dispatcher(alert_settings, CollectorRegistry())
    up.start()
    try:
        wait_until(
            lambda: undelivered(alert_settings) == 0,
            timeout_s=30,
            what="the delivery once the broker is reachable",
        )
    finally:
        up.stop()
    [(_, value)] = consume_all(alert_settings, 1)
    assert value["plate_text"] == "AB12CDE"
