"""Latency from an event's Kafka timestamp to its row being queryable, at a fixed offered load,
on a table that already holds many rows.

    python -m bench.latency --prefill-rows 10000000 --rate 1000 --duration-s 60
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from datetime import UTC, datetime

import psycopg
from confluent_kafka import Message, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from prometheus_client import CollectorRegistry

from alpr_core.config import Settings
from alpr_core.events.avro import schema_text
from alpr_core.kafka_clients import kafka_client_config, registry_client_config
from alpr_core.simulator.events import cameras, tracks
from alpr_core.storage.service import build_storage
from bench.percentiles import percentile
from bench.prefill import prefill
from bench.resources import create_topic, database, fresh_settings, load_services_env

POLL_INTERVAL_S = 0.02


def produce_at_rate(
    settings: Settings, rate: float, duration_s: float, sent_at: dict[str, float]
) -> None:
    """Publish version-1 events at ``rate``; record each event's Kafka (broker-acked) timestamp."""
    serializer = AvroSerializer(
        SchemaRegistryClient(registry_client_config(settings.registry)),
        schema_text(1),
        conf={"auto.register.schemas": True},
    )
    context = SerializationContext(settings.kafka.topic, MessageField.VALUE)
    producer = Producer(kafka_client_config(settings.kafka) | {"linger.ms": 5})
    reads = tracks(random.Random(3), cameras(8), datetime.now(UTC), 0.0)

    def delivered(error: object, message: Message) -> None:
        if error is None:
            _kind, timestamp_ms = message.timestamp()
            sent_at[(message.key() or b"").decode()] = timestamp_ms / 1000

    started = time.time()
    for sent, read in enumerate(reads):
        if time.time() - started >= duration_s:
            break
        ahead = sent / rate - (time.time() - started)
        if ahead > 0:
            time.sleep(ahead)
        event_id = read.record["event_id"]
        producer.produce(
            settings.kafka.topic,
            key=event_id.encode(),
            value=serializer(read.record, context),
            on_delivery=delivered,
        )
        producer.poll(0)
    producer.flush(30)


def watch_rows(settings: Settings, seen_at: dict[str, float], stop: threading.Event) -> None:
    """Record when each new row first becomes visible to a reader."""
    last_id = 0
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM plate_detections").fetchone()
        last_id = int(row[0]) if row else 0
        while not stop.is_set():
            rows = conn.execute(
                "SELECT id, event_id::text FROM plate_detections WHERE id > %s", (last_id,)
            ).fetchall()
            now = time.time()
            for row_id, event_id in rows:
                seen_at.setdefault(event_id, now)
                last_id = max(last_id, row_id)
            time.sleep(POLL_INTERVAL_S)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prefill-rows", type=int, default=10_000_000)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--duration-s", type=float, default=60)
    args = parser.parse_args()
    load_services_env()
    settings = fresh_settings("latency")
    create_topic(settings)
    with database(settings):
        print(f"prefilling {args.prefill_rows:,} rows ...", flush=True)
        prefill(settings.db.conninfo(), args.prefill_rows)
        sent_at: dict[str, float] = {}
        seen_at: dict[str, float] = {}
        stop = threading.Event()
        service = build_storage(settings, CollectorRegistry(), serve_http=False)
        consumer = threading.Thread(target=service.run)
        watcher = threading.Thread(target=watch_rows, args=(settings, seen_at, stop))
        consumer.start()
        watcher.start()
        time.sleep(5)  # let the consumer join its group before the clock starts
        produce_at_rate(settings, args.rate, args.duration_s, sent_at)
        deadline = time.time() + 30
        while len(seen_at) < len(sent_at) and time.time() < deadline:
            time.sleep(0.1)
        stop.set()
        watcher.join()
        service.stop()
        consumer.join()
    latencies = [seen_at[e] - sent_at[e] for e in sent_at if e in seen_at]
    print(
        f"\n## Latency at {args.rate:.0f} events/s for {args.duration_s:.0f} s, "
        f"table prefilled with {args.prefill_rows:,} rows\n"
    )
    print(f"events sent {len(sent_at)}, seen {len(latencies)}")
    print(
        f"p50 {1000 * statistics.median(latencies):.0f} ms, "
        f"p99 {1000 * percentile(latencies, 0.99):.0f} ms, "
        f"max {1000 * max(latencies):.0f} ms (row polling every {POLL_INTERVAL_S * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
