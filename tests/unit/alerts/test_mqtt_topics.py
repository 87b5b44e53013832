"""MQTT topics and Home Assistant discovery for alerts."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from alpr_core.alerts import mqtt_topics


@given(st.text())
def test_any_client_id_makes_a_valid_node_id(client_id: str) -> None:
    assert re.fullmatch(r"[A-Za-z0-9_-]+", mqtt_topics.node_id(client_id))


def test_one_event_entity_per_priority_on_the_alert_topics() -> None:
    messages = mqtt_topics.discovery_messages("alpr", "homeassistant", "gate cam/1")
    assert [topic for topic, _ in messages] == [
        f"homeassistant/event/gate_cam_1/alerts_{priority}/config"
        for priority in mqtt_topics.PRIORITIES
    ]
    for (_, config), priority in zip(messages, mqtt_topics.PRIORITIES, strict=True):
        assert config["state_topic"] == mqtt_topics.alert_topic("alpr", priority)
        assert config["event_types"] == [mqtt_topics.EVENT_TYPE]
        assert config["availability_topic"] == mqtt_topics.status_topic("alpr")
        assert config["unique_id"] == f"gate_cam_1_alerts_{priority}"
    assert len({config["unique_id"] for _, config in messages}) == len(messages)


def test_no_discovery_without_a_prefix() -> None:
    assert mqtt_topics.discovery_messages("alpr", "", "alpr-core") == []


def test_an_alert_message_is_the_payload_with_its_event_type() -> None:
    payload = {"type": "alert.opened", "alert": {"id": 1}}
    assert mqtt_topics.alert_message(payload) == {"event_type": "alert_opened"} | payload
