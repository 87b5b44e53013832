"""The registry accepts version 2 after version 1 under FULL compatibility (both ways)."""

from __future__ import annotations

import json

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, SchemaRegistryError

from alpr_core.config import Settings
from alpr_core.events.avro import schema_text


def test_v2_is_fully_compatible_with_v1_and_a_breaking_change_is_refused(
    settings: Settings,
) -> None:
    registry = SchemaRegistryClient({"url": settings.registry.url})
    subject = f"{settings.kafka.topic}-value"
    first = registry.register_schema(subject, Schema(schema_text(1), "AVRO"))
    registry.set_compatibility(subject, "FULL")

    assert registry.test_compatibility(subject, Schema(schema_text(2), "AVRO"))
    second = registry.register_schema(subject, Schema(schema_text(2), "AVRO"))
    assert second != first

    breaking = json.loads(schema_text(2))
    breaking["fields"].append({"name": "lane", "type": "int"})  # required, no default
    assert not registry.test_compatibility(subject, Schema(json.dumps(breaking), "AVRO"))
    with pytest.raises(SchemaRegistryError) as refused:
        registry.register_schema(subject, Schema(json.dumps(breaking), "AVRO"))
    assert refused.value.http_status_code == 409
