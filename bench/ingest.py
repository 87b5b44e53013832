"""End-to-end ingest: the batched storage service against the design's per-message consumer and
against each component alone (bare COPY into the same table, bare S3 PUTs of the same images).

    python -m bench.ingest --shape v1 --events 100000
    python -m bench.ingest --shape v2 --events 20000
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import psycopg
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from prometheus_client import CollectorRegistry

from alpr_core.config import Settings
from alpr_core.db.detections import COLUMNS, DetectionRow
from alpr_core.events.avro import EventDecoder
from alpr_core.events.parse import EventLimits, parse_event
from alpr_core.images.buckets import ensure_bucket
from alpr_core.images.keys import plate_image_key
from alpr_core.images.object_store import s3_image_store
from alpr_core.kafka_clients import kafka_client_config, registry_client_config
from alpr_core.simulator.crops import render_crop
from alpr_core.simulator.events import cameras, tracks
from alpr_core.simulator.publisher import EventPublisher
from alpr_core.storage.service import build_storage, tune_gc_for_batches
from bench.resources import (
    CpuMeter,
    ServerProcesses,
    cpu_delta,
    create_topic,
    database,
    free_port,
    fresh_settings,
    load_services_env,
    row_count,
    storage_env,
)

LIMITS = EventLimits(1_048_576, timedelta(days=1), timedelta(days=90))
CROP_POOL = 400


@dataclass
class Run:
    name: str
    events: int
    seconds: float
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def records(shape: str, count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Simulated events; version 2 gets real 10-30 KB crops from a pool rendered once."""
    rng = random.Random(seed)
    reads = [r.record for r in islice(tracks(rng, cameras(8), datetime.now(UTC), 0.0), count)]
    if shape == "v2":
        crops = [render_crop(f"BENCH{i:03d}", rng) for i in range(CROP_POOL)]
        for index, record in enumerate(reads):
            record["plate_image"] = crops[index % CROP_POOL]
            record["images"] = {**record["images"], "plate_url": None}
    return reads


def publish(settings: Settings, reads: list[dict[str, Any]]) -> float:
    registry = SchemaRegistryClient(registry_client_config(settings.registry))
    producer = Producer(
        kafka_client_config(settings.kafka)
        | {
            "linger.ms": 50,
            "batch.size": 1_000_000,
            "queue.buffering.max.kbytes": 1_048_576,
        }
    )
    publisher = EventPublisher(producer, registry, settings.kafka.topic)
    started = time.perf_counter()
    for record in reads:
        publisher.publish(record)
    publisher.flush(120)
    return time.perf_counter() - started


def timed(name: str, events: int, servers: ServerProcesses, work: Callable[[], float]) -> Run:
    """Run ``work`` (which returns its own measured seconds) and take CPU per process."""
    before = servers.cpu_seconds()
    seconds = work()
    return Run(name, events, seconds, cpu_delta(before, servers.cpu_seconds()))


def batched_consumer(settings: Settings, expected: int, meter: CpuMeter | None = None) -> float:
    """Seconds from the first message consumed to ``expected`` rows written; ``meter`` counts
    the CPU of that span."""
    tune_gc_for_batches()
    registry = CollectorRegistry()
    service = build_storage(settings, registry, serve_http=False)
    thread = threading.Thread(target=service.run, name="consumer loop")
    thread.start()
    started = _wait_first_message(registry)
    if meter is not None:
        meter.start()
    while (registry.get_sample_value("alpr_database_writes_total") or 0) < expected:
        # Reading our own metric costs the database nothing, but collects every metric in this
        # process, which takes the interpreter from the consumer: poll gently.
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if meter is not None:
        meter.stop()
    service.stop()
    thread.join()
    assert row_count(settings) == expected
    return seconds


def consumer_processes(settings: Settings, expected: int, processes: int) -> float:
    """The storage service as ``processes`` separate ``alpr storage`` processes in one group."""
    ports = [free_port() for _ in range(processes)]
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "alpr_core", "storage"],
            env=storage_env(settings, port),
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    while not any(_consumed(port) for port in ports):
        time.sleep(0.005)
    started = time.perf_counter()
    while sum(_metric(port, "alpr_database_writes_total") for port in ports) < expected:
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    for child in children:
        child.send_signal(signal.SIGTERM)
    for child in children:
        child.wait(60)
    return seconds


def _consumed(port: int) -> bool:
    return _metric(port, "alpr_messages_consumed_total") > 0


def _metric(port: int, name: str) -> float:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as response:
            body = response.read().decode()
    except OSError:
        return 0.0
    for line in body.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return 0.0


def _wait_first_message(registry: CollectorRegistry) -> float:
    while not registry.get_sample_value("alpr_messages_consumed_total"):
        time.sleep(0.005)
    return time.perf_counter()


def per_message_consumer(
    settings: Settings, limit_events: int, limit_s: float
) -> tuple[int, float]:
    """The design's habit: decode, upload, INSERT, commit, one event at a time."""
    consumer = Consumer(
        kafka_client_config(settings.kafka)
        | {
            "group.id": settings.kafka.group_id,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([settings.kafka.topic])
    decoder = EventDecoder(SchemaRegistryClient(registry_client_config(settings.registry)), LIMITS)
    ensure_bucket(settings.object_store)
    images = s3_image_store(settings.object_store)
    insert = (
        f"INSERT INTO plate_detections ({', '.join(COLUMNS)}) VALUES "
        f"({', '.join(['%s'] * len(COLUMNS))}) ON CONFLICT DO NOTHING"
    )
    done, started = 0, 0.0
    with psycopg.connect(settings.db.conninfo()) as conn:
        conn.execute("SELECT alpr_ensure_partitions(current_date - 2, current_date + 1)")
        conn.commit()
        while done < limit_events and (not started or time.perf_counter() - started < limit_s):
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            started = started or time.perf_counter()
            decoded = decoder.decode(message.value(), datetime.now(UTC))
            image = decoded.event.plate_image
            key = plate_image_key(decoded.event, image.extension) if image else None
            if image and key:
                images.put(key, image.data, image.content_type)
            conn.execute(
                insert.encode(), DetectionRow(decoded.event, decoded.schema_id, key).values()
            )
            conn.commit()
            consumer.commit(message=message, asynchronous=False)
            done += 1
    consumer.close()
    return done, time.perf_counter() - started


def bare_copy(settings: Settings, rows: list[DetectionRow]) -> float:
    """COPY the same rows straight into the same partitioned, indexed table."""
    columns = ", ".join(f'"{c}"' for c in COLUMNS)
    with psycopg.connect(settings.db.conninfo()) as conn:
        days = sorted({r.event.captured_at.astimezone(UTC).date() for r in rows})
        conn.execute("SELECT alpr_ensure_partitions(%s, %s)", (days[0], days[-1]))
        conn.commit()
        started = time.perf_counter()
        for start in range(0, len(rows), 5000):
            with conn.cursor().copy(f"COPY plate_detections ({columns}) FROM STDIN") as copy:
                for row in rows[start : start + 5000]:
                    copy.write_row(row.values())
            conn.commit()
        return time.perf_counter() - started


def bare_puts(settings: Settings, rows: list[DetectionRow], threads: int) -> float:
    ensure_bucket(settings.object_store)
    images = s3_image_store(settings.object_store)
    uploads = [(r.image_object_key, r.event.plate_image) for r in rows if r.event.plate_image]
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda u: images.put(u[0], u[1].data, u[1].content_type), uploads))
    return time.perf_counter() - started


def parsed_rows(reads: list[dict[str, Any]]) -> list[DetectionRow]:
    now = datetime.now(UTC)
    rows = []
    for record in reads:
        event = parse_event(record, LIMITS, now)
        image = event.plate_image
        rows.append(
            DetectionRow(event, 1, plate_image_key(event, image.extension) if image else None)
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shape", choices=("v1", "v2"), default="v1")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--baseline-events", type=int, default=3000)
    parser.add_argument("--baseline-max-s", type=float, default=30.0)
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="run the storage service as this many processes (one group)",
    )
    args = parser.parse_args()
    load_services_env()
    servers = ServerProcesses.find()
    settings = fresh_settings(f"ingest-{args.shape}")
    threads = settings.storage.image_upload_concurrency
    print(f"generating {args.events} {args.shape} events ...", flush=True)
    reads = records(args.shape, args.events)
    rows = parsed_rows(reads)
    create_topic(settings)
    print(f"published in {publish(settings, reads):.1f} s", flush=True)
    runs: list[Run] = []
    with database(settings):
        runs.append(
            timed(
                f"batched storage service, {args.processes} process(es)",
                args.events,
                servers,
                lambda: (
                    batched_consumer(settings, args.events)
                    if args.processes == 1
                    else consumer_processes(settings, args.events, args.processes)
                ),
            )
        )
    baseline = fresh_settings(f"permsg-{args.shape}")
    baseline = baseline.model_copy(
        update={"kafka": settings.kafka.model_copy(update={"group_id": baseline.kafka.group_id})}
    )
    with database(baseline):
        holder: list[int] = []

        def per_message() -> float:
            done, seconds = per_message_consumer(
                baseline, args.baseline_events, args.baseline_max_s
            )
            holder.append(done)
            return seconds

        run = timed("per-message consumer (seed)", 0, servers, per_message)
        run.events = holder[0]
        runs.append(run)
    copy_settings = fresh_settings(f"copy-{args.shape}")
    with database(copy_settings):
        runs.append(
            timed(
                "bare COPY, same rows and table",
                len(rows),
                servers,
                lambda: bare_copy(copy_settings, rows),
            )
        )
    if args.shape == "v2":
        put_settings = fresh_settings(f"put-{args.shape}")
        runs.append(
            timed(
                f"bare S3 PUT, {threads} threads",
                len(rows),
                servers,
                lambda: bare_puts(put_settings, rows, threads),
            )
        )
    report(args, runs)


def report(args: argparse.Namespace, runs: list[Run]) -> None:
    batched = runs[0]
    print(f"\n## Ingest, {args.shape}, {args.events} events\n")
    print("| run | events | seconds | events/s | batched ÷ this |")
    print("|---|---:|---:|---:|---:|")
    for run in runs:
        ratio = batched.rate / run.rate if run.rate else float("nan")
        print(f"| {run.name} | {run.events} | {run.seconds:.2f} | {run.rate:,.0f} | {ratio:.2f} |")
    # What the machine allows: its cores divided by every process's CPU per event. A run cannot
    # go faster than that, however well its processes share the cores.
    cores = os.cpu_count() or 1
    print(f"\nCPU per event (ms), by process, and the rate it allows on {cores} cores:\n")
    names = sorted({n for run in runs for n in run.cpu})
    print("| run | " + " | ".join(names) + " | all | cores ÷ all, events/s |")
    print("|---|" + "---:|" * (len(names) + 2))
    for run in runs:
        if not run.events:
            print(f"| {run.name} |" + " - |" * (len(names) + 2))
            continue
        per_event = [1000 * run.cpu.get(n, 0) / run.events for n in names]
        every = sum(per_event)
        cells = [f"{ms:.3f}" for ms in per_event] + [f"{every:.3f}", f"{1000 * cores / every:,.0f}"]
        print(f"| {run.name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
