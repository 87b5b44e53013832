"""Decoding cost per event: confluent-kafka's AvroDeserializer against our EventDecoder, which
reads the framing with confluent-kafka and decodes with fastavro using the registry's writer schema.

    python -m bench.decode --events 20000
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import islice

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from alpr_core.config import Settings
from alpr_core.events.avro import EventDecoder, schema_text
from alpr_core.events.parse import EventLimits
from alpr_core.kafka_clients import registry_client_config
from alpr_core.simulator.events import cameras, tracks
from bench.resources import load_services_env

LIMITS = EventLimits(1_048_576, timedelta(days=1), timedelta(days=90))


def per_event_us(fn: Callable[[bytes], object], values: list[bytes], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        started = time.perf_counter()
        for value in values:
            fn(value)
        best = min(best, (time.perf_counter() - started) / len(values) * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    load_services_env()
    settings = Settings.load()
    registry = SchemaRegistryClient(registry_client_config(settings.registry))
    topic = f"bench.decode-{random.randrange(1 << 30)}"
    serializer = AvroSerializer(registry, schema_text(1), conf={"auto.register.schemas": True})
    context = SerializationContext(topic, MessageField.VALUE)
    reads = islice(tracks(random.Random(5), cameras(8), datetime.now(UTC), 0.0), args.events)
    values = [serializer(read.record, context) for read in reads]
    now = datetime.now(UTC)
    confluent = AvroDeserializer(registry)
    ours = EventDecoder(registry, LIMITS)
    rows = [
        ("AvroDeserializer (decode only)", per_event_us(lambda v: confluent(v, None), values)),
        ("EventDecoder, decode only", per_event_us(ours.decode_record, values)),
        ("EventDecoder, decode + validate", per_event_us(lambda v: ours.decode(v, now), values)),
    ]
    print(f"\n## Decoding {args.events} version-1 events (best of 3)\n")
    print("| decoder | µs per event | AvroDeserializer ÷ this |")
    print("|---|---:|---:|")
    for name, cost in rows:
        print(f"| {name} | {cost:.1f} | {rows[0][1] / cost:.2f} |")


if __name__ == "__main__":
    main()
