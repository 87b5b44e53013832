"""Poison messages go to the dead-letter topic with their reason; every good event is stored."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from alpr_core.config import Settings
from alpr_core.events.avro import schema_text
from alpr_core.simulator.publisher import SimulationPlan, simulated_reads
from tests.integration.conftest import db_scalar, running_storage, wait_until
from tests.integration.helpers import headers_of, publisher, read_topic
from tests.unit.factories import record

GOOD = 40


def _fresh(**changes: Any) -> dict[str, Any]:
    """A valid record with a new id and a current time, then ``changes``."""
    fields: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "captured_at": datetime.now(UTC).isoformat(),
    }
    return record(**{**fields, **changes})


def _with_plate(**plate: Any) -> dict[str, Any]:
    bad = _fresh()
    bad["plate"] = {**bad["plate"], **plate}
    return bad


def _borrowed_image(settings: Settings) -> dict[str, str | None]:
    """A plate_url naming an object in our bucket that no edge upload of this camera owns."""
    url = f"s3://{settings.object_store.bucket}/plates/someone-else.jpg"
    return {"plate_url": url, "vehicle_url": None, "frame_url": None}


def test_poison_messages_are_dead_lettered_and_counted(settings: Settings) -> None:
    out = publisher(settings)
    plan = SimulationPlan(0, 3, None, GOOD, 0.5, seed=9)
    good = list(islice(simulated_reads(plan), GOOD))
    poison: list[tuple[bytes | None, str]] = [
        (b"definitely not avro", "undecodable"),
        (b"\x00\x00\x0f\x42\x3f" + b"\x02\x04", "unknown_schema"),  # schema id 999999
        (b"\x00\x00\x00", "undecodable"),  # too short for the framing
    ]
    invalid = [
        (_with_plate(confidence=1.5), "invalid_confidence"),
        (_fresh(event_id="nope"), "invalid_event_id"),
        (_with_plate(text=""), "invalid_plate_text"),
        (_fresh(captured_at="last tuesday"), "invalid_timestamp"),
        (_fresh(plate_image=b"\xff\xd8\xff not really a jpeg"), "invalid_image"),
        (_fresh(camera_id="cam\x00001"), "invalid_field"),  # PostgreSQL would refuse a NUL
        (_fresh(extras={"roi": "lane\x001", "direction": None}), "invalid_field"),
        # valid as far as validation goes, refused by the sink: the batch is stored around it
        (_fresh(images=_borrowed_image(settings)), "image_not_owned"),
    ]
    for index, read in enumerate(good):
        out.publish(read.record)
        if index < len(poison):
            out.publish_raw(b"edge-x", poison[index][0])
        if index < len(invalid):
            out.publish(invalid[index][0])
    out.flush()
    expected = Counter(reason for _, reason in poison + invalid)
    bad_total = sum(expected.values())

    with running_storage(settings) as storage:
        wait_until(
            lambda: (
                storage.metric("alpr_offsets_committed_total") > 0
                and storage.metric("alpr_messages_consumed_total") == GOOD + bad_total
            ),
            what="every message consumed",
        )
        wait_until(lambda: db_scalar(settings, "SELECT count(*) FROM plate_detections") == GOOD)

    dead = read_topic(settings, settings.kafka.dlq_topic, bad_total)
    assert len(dead) == bad_total
    assert Counter(headers_of(m)["alpr.dlq.reason"] for m in dead) == expected
    originals = {raw for raw, _ in poison}
    assert originals <= {m.value() for m in dead}  # original bytes, untouched
    for message in dead:
        headers = headers_of(message)
        assert headers["alpr.dlq.original.topic"] == settings.kafka.topic
        assert int(headers["alpr.dlq.original.offset"]) >= 0
        assert headers["alpr.dlq.detail"]
    for reason, count in expected.items():
        assert storage.metric("alpr_events_dead_lettered_total", {"reason": reason}) == count
        assert storage.metric("alpr_processing_errors_total", {"reason": reason}) == count
    stored = db_scalar(settings, "SELECT count(DISTINCT event_id) FROM plate_detections")
    assert stored == GOOD


def test_fields_from_a_newer_producer_are_kept(settings: Settings) -> None:
    v3 = json.loads(schema_text(2))
    v3["fields"].append({"name": "lane", "type": "int", "default": 0})
    registry = SchemaRegistryClient({"url": settings.registry.url})
    registry.register_schema(f"{settings.kafka.topic}-value", Schema(json.dumps(v3), "AVRO"))
    serializer = AvroSerializer(
        registry, json.dumps(v3), conf={"auto.register.schemas": False, "use.latest.version": True}
    )
    value = serializer(
        _fresh(lane=7), SerializationContext(settings.kafka.topic, MessageField.VALUE)
    )
    out = publisher(settings)
    out.publish_raw(b"cam-001", value)
    out.flush()

    with running_storage(settings):
        wait_until(lambda: db_scalar(settings, "SELECT count(*) FROM plate_detections") == 1)
    lane = db_scalar(settings, "SELECT (unknown_fields->>'lane')::int FROM plate_detections")
    assert lane == 7
