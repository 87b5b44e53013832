"""The offered load: a constant-rate, open-loop schedule of good reads (Kafka and HTTP, a third
with an inline crop), poison of every kind, and replays; acknowledgements go to the ledger."""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import KafkaError, Message, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from alpr_core.events.avro import schema_text
from alpr_core.simulator.crops import render_crop
from alpr_core.simulator.events import SimulatedRead, cameras, tracks
from bench.chaos import poison
from bench.chaos.http_sender import HttpItem, HttpSender
from bench.chaos.ledger import GoodEvent, Ledger, sha256
from bench.chaos.servers import Target

CROP_POOL = 64
RECENT = 500


@dataclass(frozen=True, slots=True)
class Mix:
    rate_per_s: float
    duration_s: float
    v2_share: float = 1 / 3
    http_share: float = 0.10
    poison_share: float = 0.01
    replay_share: float = 0.01
    sample_every: int = 50


@dataclass(slots=True)
class Sent:
    key: bytes
    value: bytes
    record: dict[str, Any]


class AvroCodec:
    def __init__(self, registry_url: str, topic: str) -> None:
        registry = SchemaRegistryClient({"url": registry_url})
        self._context = SerializationContext(topic, MessageField.VALUE)
        self._serializers = {
            v: AvroSerializer(registry, schema_text(v), conf={"auto.register.schemas": True})
            for v in (1, 2)
        }

    def __call__(self, record: dict[str, Any]) -> bytes:
        version = 2 if record.get("plate_image") is not None else 1
        return bytes(self._serializers[version](record, self._context) or b"")


class Load:
    """One tick per event at ``rate_per_s``; ticks that fall behind are sent at once (open loop)."""

    def __init__(self, target: Target, mix: Mix, ledger: Ledger, http: HttpSender, seed: int):
        self._mix, self._ledger, self._http = mix, ledger, http
        self._topic, self._bucket = target.kafka.topic, target.object_store.bucket
        self._rng = random.Random(seed)
        self._reads = self._fresh_reads(seed)
        self._crops = [render_crop(f"CHAOS{i:02d}", self._rng) for i in range(CROP_POOL)]
        self._codec = AvroCodec(target.registry.url, self._topic)
        self._producer = Producer(
            {
                "bootstrap.servers": target.kafka.bootstrap_servers,
                "enable.idempotence": True,
                "linger.ms": 20,
                "message.timeout.ms": 300_000,
            }
        )
        self._recent: deque[Sent] = deque(maxlen=RECENT)
        self._poison_turn = 0
        self._count = 0

    def _fresh_reads(self, seed: int) -> Iterator[SimulatedRead]:
        return tracks(random.Random(seed + 1), cameras(16), datetime.now(UTC), 0.0)

    def run(self) -> int:
        started = time.monotonic()
        total = int(self._mix.rate_per_s * self._mix.duration_s)
        for tick in range(total):
            ahead_s = started + tick / self._mix.rate_per_s - time.monotonic()
            if ahead_s > 0:
                time.sleep(ahead_s)
            self._one()
            self._producer.poll(0)
        return total

    def flush(self, timeout_s: float) -> int:
        return int(self._producer.flush(timeout_s))

    def _one(self) -> None:
        roll = self._rng.random()
        if roll < self._mix.poison_share:
            self._poison()
        elif roll < self._mix.poison_share + self._mix.replay_share and self._recent:
            self._replay()
        else:
            self._good()

    def _record(self) -> dict[str, Any]:
        record = next(self._reads).record
        record["captured_at"] = datetime.now(UTC).isoformat(timespec="milliseconds")
        return record

    def _good(self) -> None:
        record = self._record()
        if self._rng.random() < self._mix.v2_share:
            record["plate_image"] = self._rng.choice(self._crops)
            record["images"] = {**record["images"], "plate_url": None}
        image = record.get("plate_image")
        good = GoodEvent("kafka", 2 if image else 1, sha256(image) if image else None)
        self._count += 1
        if self._count % self._mix.sample_every == 0:
            with self._ledger.lock:
                self._ledger.samples[record["event_id"]] = time.monotonic()
        if self._rng.random() < self._mix.http_share:
            http_good = GoodEvent("http", good.version, good.image_sha256)
            self._http.items.put(
                HttpItem(poison.as_json_item(record), record["event_id"], http_good)
            )
            return
        value = self._codec(record)
        self._produce(record["camera_id"].encode(), value, self._on_good(record["event_id"], good))
        self._recent.append(Sent(record["camera_id"].encode(), value, record))

    def _on_good(self, event_id: str, good: GoodEvent) -> Any:
        def delivered(error: KafkaError | None, message: Message) -> None:
            if error is None:
                position = (int(message.partition() or 0), int(message.offset() or 0))
                self._ledger.acknowledge_good(event_id, good, position)
            else:
                self._ledger.unacknowledged["kafka good"] += 1

        return delivered

    def _produce(self, key: bytes | None, value: bytes, callback: Any) -> None:
        while True:
            try:
                self._producer.produce(self._topic, key=key, value=value, on_delivery=callback)
                return
            except BufferError:
                self._producer.poll(0.1)

    def _replay(self) -> None:
        sent = self._rng.choice(self._recent)
        if sent.record.get("plate_image") is not None and self._rng.random() < 0.5:
            other = [c for c in self._crops if c != sent.record["plate_image"]]
            record = {**sent.record, "plate_image": self._rng.choice(other)}
            self._ledger.replays["different image"] += 1
            replayed = self._ledger.replay_images.setdefault(record["event_id"], set())
            replayed.add(sha256(record["plate_image"]))
            self._produce(sent.key, self._codec(record), None)
            return
        self._ledger.replays["same message"] += 1
        self._produce(sent.key, sent.value, None)

    def _poison(self) -> None:
        kinds = [("kafka", k) for k in poison.KAFKA_KINDS] + [
            ("http", k) for k in poison.HTTP_KINDS
        ]
        channel, kind = kinds[self._poison_turn % len(kinds)]
        self._poison_turn += 1
        record, victim = self._record(), self._victim()
        if channel == "http":
            body = poison.http_poison(kind, record, victim, self._bucket)
            self._ledger.poison_event_ids[record["event_id"]] = f"http {kind}"
            self._http.items.put(
                HttpItem(poison.as_json_item(body), record["event_id"], None, kind)
            )
            return
        value = poison.kafka_poison(kind, record, victim, self._bucket, self._codec, self._rng)
        if kind not in ("random_bytes", "truncated_frame"):
            self._ledger.poison_event_ids[record["event_id"]] = kind
        self._produce(record["camera_id"].encode(), value, self._on_poison(kind))

    def _victim(self) -> dict[str, Any]:
        with_images = [s.record for s in self._recent if s.record.get("plate_image") is not None]
        return self._rng.choice(with_images) if with_images else self._record()

    def _on_poison(self, kind: str) -> Any:
        def delivered(error: KafkaError | None, message: Message) -> None:
            if error is not None:
                self._ledger.unacknowledged["kafka poison"] += 1
                return
            offset = (int(message.partition() or 0), int(message.offset() or 0))
            self._ledger.poison_offsets[offset] = kind
            self._ledger.poison_sent[f"kafka {kind}"] += 1

        return delivered
