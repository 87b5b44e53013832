"""Latency at a fixed offered load, on a table that already holds many rows, with a watchlist of
many entries: from an event's Kafka timestamp to its row being queryable, and, for each alert,
from its opening read's Kafka timestamp to the alert reaching a webhook receiver. Both are
measured in the same run, so the second can be read against the first.

    python -m bench.latency --keep-db bench_10m_fleet --prefill-rows 10000000 --rate 1000 \\
        --duration-s 60 --entries 100000 --listed-share 0.02
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import islice
from multiprocessing import Process, Queue
from queue import Empty
from typing import Any

import psycopg
from confluent_kafka import Message, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from prometheus_client import CollectorRegistry

from alpr_core.config import Settings
from alpr_core.events.avro import schema_text
from alpr_core.kafka_clients import kafka_client_config, registry_client_config
from alpr_core.simulator.events import SimulatedRead, cameras, tracks
from alpr_core.storage.service import build_storage
from bench.percentiles import percentile
from bench.prefill import prefill
from bench.resources import (
    create_topic,
    database,
    fresh_settings,
    kept_settings,
    load_services_env,
    row_count,
)
from bench.watchlist_ingest import entry_rows, fill_watchlist

POLL_INTERVAL_S = 0.02
QUERYABLE_GOAL_S = 2.0
WEBHOOK_GOAL_S = 2.0
WEBHOOK_ABOVE_QUERYABLE_S = 0.25

# A read, as the alert's payload names it: its track and its capture time.
ReadKey = tuple[str, datetime]


def planned_reads(count: int) -> list[SimulatedRead]:
    return list(islice(tracks(random.Random(3), cameras(8), datetime.now(UTC), 0.0), count))


def listed_plates(reads: list[SimulatedRead], share: float, rng: random.Random) -> list[str]:
    """The plate text of the first read of ``share`` of the tracks: those tracks raise alerts."""
    first_texts: dict[str, str] = {}
    for read in reads:
        first_texts.setdefault(read.record["track_id"], read.record["plate"]["normalized_text"])
    chosen = rng.sample(sorted(first_texts), round(len(first_texts) * share))
    return sorted({first_texts[track] for track in chosen})


def read_key(track_id: str, captured_at: str) -> ReadKey:
    return track_id, datetime.fromisoformat(captured_at)


def produce_at_rate(
    settings: Settings, reads: list[SimulatedRead], rate: float, sent_at: dict[str, float]
) -> None:
    """Publish version-1 events at ``rate``; record each event's Kafka (broker-acked) timestamp."""
    serializer = AvroSerializer(
        SchemaRegistryClient(registry_client_config(settings.registry)),
        schema_text(1),
        conf={"auto.register.schemas": True},
    )
    context = SerializationContext(settings.kafka.topic, MessageField.VALUE)
    producer = Producer(kafka_client_config(settings.kafka) | {"linger.ms": 5})

    def delivered(error: object, message: Message) -> None:
        if error is None:
            _kind, timestamp_ms = message.timestamp()
            sent_at[(message.key() or b"").decode()] = timestamp_ms / 1000

    started = time.time()
    for sent, read in enumerate(reads):
        ahead = sent / rate - (time.time() - started)
        if ahead > 0:
            time.sleep(ahead)
        producer.produce(
            settings.kafka.topic,
            key=read.record["event_id"].encode(),
            value=serializer(read.record, context),
            on_delivery=delivered,
        )
        producer.poll(0)
    producer.flush(30)


def watch_rows(settings: Settings, seen_at: dict[str, float], stop: threading.Event) -> None:
    """Record when each new row first becomes visible to a reader."""
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


def _receive(port_out: Queue[int], arrivals: Queue[tuple[str, str, float]]) -> None:
    """The receiver's process: answer 204 to each alert and report when it arrived."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            now = time.time()
            alert = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["alert"]
            arrivals.put((alert["track_id"], alert["first_seen"], now))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.put(server.server_address[1])
    server.serve_forever()


@contextmanager
def webhook_receiver(received_at: dict[ReadKey, float]) -> Iterator[str]:
    """A receiver in a process of its own, as a real one is elsewhere, that records when each
    alert first arrived, by its opening read; yields its url."""
    ports: Queue[int] = Queue()
    arrivals: Queue[tuple[str, str, float]] = Queue()
    process = Process(target=_receive, args=(ports, arrivals), daemon=True)
    process.start()
    try:
        yield f"http://127.0.0.1:{ports.get(timeout=30)}/alerts"
    finally:
        while True:
            try:
                track_id, first_seen, at = arrivals.get(timeout=1)
            except Empty:
                break
            received_at.setdefault(read_key(track_id, first_seen), at)
        process.terminate()
        process.join()


def subscribe(settings: Settings, entries: int, hits: list[str], url: str) -> None:
    """One list of ``entries`` (a tenth fuzzy), ``hits`` among them, and its webhook."""
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        conn.execute("DELETE FROM watchlists")  # a kept database's lists of an earlier run
    fill_watchlist(settings, entry_rows(entries, hits, [1, 2], random.Random(5)))
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO webhooks (watchlist_id, url, secret)"
            " SELECT id, %s, 'bench-secret' FROM watchlists",
            (url,),
        )


def bench_settings(args: argparse.Namespace) -> Settings:
    fresh = fresh_settings("latency")
    settings = kept_settings(args.keep_db) if args.keep_db else fresh
    return settings.model_copy(
        update={
            "kafka": fresh.kafka,
            "storage": fresh.storage,
            # webhooks only: the deployment's Kafka topic and MQTT are not what is measured
            "alert": settings.alert.model_copy(update={"kafka_topic": ""}),
            "mqtt": settings.mqtt.model_copy(update={"host": ""}),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prefill-rows", type=int, default=10_000_000)
    parser.add_argument("--keep-db", metavar="NAME", help="fill database NAME once, reuse it later")
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--duration-s", type=float, default=60)
    parser.add_argument("--entries", type=int, default=100_000, help="watchlist entries")
    parser.add_argument(
        "--listed-share", type=float, default=0.02, help="share of vehicles on the list"
    )
    args = parser.parse_args()
    load_services_env()
    settings = bench_settings(args)
    create_topic(settings)
    reads = planned_reads(int(args.rate * args.duration_s))
    opening = {
        read_key(r.record["track_id"], r.record["captured_at"]): r.record["event_id"] for r in reads
    }
    sent_at: dict[str, float] = {}
    seen_at: dict[str, float] = {}
    received_at: dict[ReadKey, float] = {}
    with database(settings, keep=bool(args.keep_db)), webhook_receiver(received_at) as url:
        present = row_count(settings)
        if present < args.prefill_rows:
            print(f"prefilling {args.prefill_rows - present:,} rows ...", flush=True)
            prefill(settings.db.conninfo(), args.prefill_rows - present, first_row=present + 1)
        subscribe(
            settings, args.entries, listed_plates(reads, args.listed_share, random.Random(7)), url
        )
        stop = threading.Event()
        service = build_storage(settings, CollectorRegistry(), serve_http=False)
        consumer = threading.Thread(target=service.run)
        watcher = threading.Thread(target=watch_rows, args=(settings, seen_at, stop))
        consumer.start()
        watcher.start()
        time.sleep(5)  # let the consumer join its group before the clock starts
        produce_at_rate(settings, reads, args.rate, sent_at)
        deadline = time.time() + 30
        while len(seen_at) < len(sent_at) and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(5)  # the last alerts' deliveries
        stop.set()
        watcher.join()
        service.stop()
        consumer.join()
        alerts = _alert_count(settings)
    queryable = [seen_at[e] - sent_at[e] for e in sent_at if e in seen_at]
    delivered = [
        at - sent_at[opening[key]]
        for key, at in received_at.items()
        if key in opening and opening[key] in sent_at
    ]
    report(args, len(sent_at), queryable, alerts, delivered)


def _alert_count(settings: Settings) -> int:
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute("SELECT count(*) FROM alerts").fetchone()
    return int(row[0]) if row else 0


def _yes(met: bool) -> str:
    return "yes" if met else "no"


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:,.0f} ms"


def report(
    args: argparse.Namespace,
    sent: int,
    queryable: list[float],
    alerts: int,
    delivered: list[float],
) -> None:
    print(
        f"\n## Latency at {args.rate:.0f} events/s for {args.duration_s:.0f} s, "
        f"{args.prefill_rows:,} rows, a list of {args.entries:,} entries\n"
    )
    print("| path | measured | p50 | p99 | max | goal | met |")
    print("|---|---:|---:|---:|---:|---|---|")
    rows = [
        ("Kafka → queryable", queryable, sent, f"p99 < {_ms(QUERYABLE_GOAL_S)}", QUERYABLE_GOAL_S),
        ("Kafka → webhook", delivered, alerts, f"p99 < {_ms(WEBHOOK_GOAL_S)}", WEBHOOK_GOAL_S),
    ]
    for name, values, of, goal, bound in rows:
        p99 = percentile(values, 0.99) if values else float("inf")
        median = statistics.median(values) if values else float("inf")
        print(
            f"| {name} | {len(values):,} of {of:,} | {_ms(median)} | {_ms(p99)} |"
            f" {_ms(max(values, default=float('inf')))} | {goal} | {_yes(p99 < bound)} |"
        )
    if queryable and delivered:
        above = percentile(delivered, 0.99) - percentile(queryable, 0.99)
        met = _yes(above <= WEBHOOK_ABOVE_QUERYABLE_S)
        print(
            f"\nwebhook p99 minus queryable p99: {_ms(above)}"
            f" (goal ≤ {_ms(WEBHOOK_ABOVE_QUERYABLE_S)}: {met});"
            f" rows polled every {_ms(POLL_INTERVAL_S)}"
        )


if __name__ == "__main__":
    main()
