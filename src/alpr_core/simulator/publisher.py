"""Publish simulated reads the way field edges do: AvroSerializer, Confluent framing, string key
(or, for sites without Kafka, JSON to ``POST /events``: :mod:`.http_publisher`)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from alpr_core.config import Settings
from alpr_core.events.avro import schema_text
from alpr_core.kafka_clients import kafka_client_config, registry_client_config
from alpr_core.simulator.events import SimulatedRead, cameras, tracks


@dataclass(frozen=True, slots=True)
class SimulationPlan:
    rate_per_s: float  # 0 means as fast as possible
    cameras: int
    duration_s: float | None  # None: until max_events
    max_events: int | None
    inline_image_share: float  # 0: all version 1, 1: all version 2
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    sent: int
    elapsed_s: float
    version_counts: dict[int, int]


class ReadPublisher(Protocol):
    def publish(self, record: dict[str, Any]) -> int: ...

    def flush(self, timeout_s: float = 30.0) -> int: ...


class EventPublisher:
    def __init__(self, producer: Producer, registry: SchemaRegistryClient, topic: str) -> None:
        self._producer = producer
        self._topic = topic
        self._context = SerializationContext(topic, MessageField.VALUE)
        self._serializers = {
            version: AvroSerializer(
                registry, schema_text(version), conf={"auto.register.schemas": True}
            )
            for version in (1, 2)
        }

    def publish(self, record: dict[str, Any]) -> int:
        """Queue one record; return the schema version it was written with."""
        version = 2 if record.get("plate_image") is not None else 1
        value = self._serializers[version](record, self._context)
        self.publish_raw(record["camera_id"].encode(), value)
        return version

    def publish_raw(self, key: bytes | None, value: bytes | None) -> None:
        while True:
            try:
                self._producer.produce(self._topic, key=key, value=value)
                self._producer.poll(0)
                return
            except BufferError:
                self._producer.poll(0.1)

    def flush(self, timeout_s: float = 30.0) -> int:
        return int(self._producer.flush(timeout_s))


def kafka_publisher(settings: Settings) -> EventPublisher:
    return EventPublisher(
        Producer(kafka_client_config(settings.kafka) | {"linger.ms": 20}),
        SchemaRegistryClient(registry_client_config(settings.registry)),
        settings.kafka.topic,
    )


def simulated_reads(
    plan: SimulationPlan,
    listed: Callable[[], Sequence[str]] = tuple,
    listed_share: float = 0.0,
) -> Iterator[SimulatedRead]:
    rng = random.Random(plan.seed)
    fleet = cameras(plan.cameras)
    return tracks(rng, fleet, datetime.now(UTC), plan.inline_image_share, listed, listed_share)


def run_simulation(
    publisher: ReadPublisher,
    plan: SimulationPlan,
    on_progress: Callable[[Progress], None] | None = None,
    reads: Iterable[SimulatedRead] | None = None,
    before_publish: Callable[[dict[str, Any]], None] | None = None,
) -> Progress:
    """Publish at ``plan.rate_per_s`` until the duration or event count is reached;
    ``before_publish`` sees each record first (e.g. to upload the edge's image)."""
    started = time.monotonic()
    sent, counts, next_report = 0, {1: 0, 2: 0}, started + 1.0
    for read in reads if reads is not None else simulated_reads(plan):
        now = time.monotonic()
        if _finished(plan, sent, now - started):
            break
        _pace(plan.rate_per_s, sent, now - started)
        if plan.rate_per_s > 0:  # paced like a live edge: stamp reads with the wall clock
            read.record["captured_at"] = datetime.now(UTC).isoformat(timespec="milliseconds")
        if before_publish:
            before_publish(read.record)
        counts[publisher.publish(read.record)] += 1
        sent += 1
        if on_progress and now >= next_report:
            on_progress(Progress(sent, now - started, dict(counts)))
            next_report = now + 1.0
    publisher.flush()
    result = Progress(sent, time.monotonic() - started, counts)
    if on_progress:
        on_progress(result)
    return result


def _finished(plan: SimulationPlan, sent: int, elapsed_s: float) -> bool:
    if plan.max_events is not None and sent >= plan.max_events:
        return True
    return plan.duration_s is not None and elapsed_s >= plan.duration_s


def _pace(rate_per_s: float, sent: int, elapsed_s: float) -> None:
    if rate_per_s > 0:
        ahead_s = sent / rate_per_s - elapsed_s
        if ahead_s > 0:
            time.sleep(ahead_s)
