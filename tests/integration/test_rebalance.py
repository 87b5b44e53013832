"""A second consumer joining the group: revoked partitions are committed before they move, and
never committed by the consumer that lost them."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient
from prometheus_client import CollectorRegistry
from psycopg_pool import ConnectionPool

from alpr_core.config import Settings
from alpr_core.events.avro import DecodedEvent, EventDecoder
from alpr_core.events.model import PlateEvent
from alpr_core.images.object_store import ObjectImageStore, edge_uploads_of, s3_image_store
from alpr_core.metrics import StorageMetrics
from alpr_core.policies import backoff, event_limits
from alpr_core.storage.batch_writer import BatchWriter
from alpr_core.storage.consumer import StorageConsumer
from alpr_core.storage.dead_letter import DeadLetterPublisher
from alpr_core.storage.health import Liveness
from alpr_core.storage.service import consumer_config, dead_letter_producer, loop_settings
from alpr_core.storage.sink import DetectionSink, SinkResult
from tests.integration.conftest import RunningStorage, db_scalar, running_storage, wait_until
from tests.integration.helpers import read_topic, simulate


def _rows(settings: Settings) -> int:
    return db_scalar(settings, "SELECT count(*) FROM plate_detections")


def test_a_consumer_joining_mid_stream_re_reads_nothing_already_stored(settings: Settings) -> None:
    simulate(settings, 400, inline_share=0.2, seed=51)
    with running_storage(settings) as first:
        wait_until(lambda: _rows(settings) == 400, what="the first 400 rows")
        with running_storage(settings) as second:
            wait_until(
                lambda: (
                    second.metric("alpr_assigned_partitions") > 0
                    and first.metric("alpr_assigned_partitions") < 4
                ),
                what="the group to share the partitions",
            )
            simulate(settings, 400, inline_share=0.2, seed=52)
            wait_until(lambda: _rows(settings) == 800, timeout_s=90, what="all 800 rows")
            wait_until(
                lambda: (
                    first.metric("alpr_messages_consumed_total")
                    + second.metric("alpr_messages_consumed_total")
                    >= 800
                ),
                what="every message consumed",
            )
    consumed = first.metric("alpr_messages_consumed_total") + second.metric(
        "alpr_messages_consumed_total"
    )
    duplicates = first.metric("alpr_duplicate_events_total") + second.metric(
        "alpr_duplicate_events_total"
    )
    assert second.metric("alpr_messages_consumed_total") > 0  # it took its share
    assert consumed == 800  # nothing was read twice: revoked partitions were committed first
    assert duplicates == 0
    assert db_scalar(settings, "SELECT count(DISTINCT event_id) FROM plate_detections") == 800


class GatedSink:
    """The real sink, holding every write until ``gate`` opens: the first consumer stays
    mid-hand-off while the group moves its partitions."""

    def __init__(self, sink: DetectionSink, gate: threading.Event) -> None:
        self._sink = sink
        self._gate = gate

    def write(self, events: Sequence[DecodedEvent]) -> SinkResult:
        self._gate.wait(timeout=180)
        return self._sink.write(events)

    def raise_alerts(self, durable: Sequence[PlateEvent]) -> None:
        self._sink.raise_alerts(durable)

    def close(self) -> None:
        self._sink.close()


def _interleaving_consumer(settings: Settings) -> Consumer:
    """The storage consumer's settings, but small fetches: each consume() mixes partitions, so
    messages of every partition are waiting in the loop when the revoke comes."""
    return Consumer(consumer_config(settings) | {"max.partition.fetch.bytes": 2048})


@contextmanager
def gated_storage(
    settings: Settings, gate: threading.Event, registry: CollectorRegistry
) -> Iterator[StorageConsumer]:
    """A storage consumer wired as in production but for its gated sink, run in a thread."""
    metrics, liveness = StorageMetrics(registry), Liveness()
    pool = ConnectionPool(settings.db.conninfo(), min_size=1, max_size=2, open=True)
    images = s3_image_store(settings.object_store)
    sink = GatedSink(DetectionSink(pool, images, 4, edge_uploads_of(settings)), gate)
    dead = DeadLetterPublisher(dead_letter_producer(settings), settings.kafka.dlq_topic)
    writer = BatchWriter(sink, dead, metrics, backoff(settings), liveness)
    schemas = SchemaRegistryClient({"url": settings.registry.url})
    decoder = EventDecoder(schemas, event_limits(settings))
    kafka = _interleaving_consumer(settings)
    consumer = StorageConsumer(kafka, decoder, writer, metrics, loop_settings(settings), liveness)
    thread = threading.Thread(target=consumer.run, name="gated-storage")
    thread.start()
    try:
        yield consumer
    finally:
        consumer.request_stop()
        thread.join(timeout=60)
        pool.close()
    assert not thread.is_alive(), "the gated consumer did not stop"


def _event_ids(settings: Settings, total: int) -> dict[tuple[int, int], str]:
    """Each message's event_id, by (partition, offset)."""
    decoder = EventDecoder(
        SchemaRegistryClient({"url": settings.registry.url}), event_limits(settings)
    )
    now = datetime.now(UTC)
    return {
        (m.partition() or 0, m.offset() or 0): decoder.decode(m.value(), now).event.event_id
        for m in read_topic(settings, settings.kafka.topic, total)
    }


class CommittedOffsets:
    """Samples the group's committed offsets in a thread; after each change, checks that every
    message below a committed offset is stored."""

    def __init__(self, settings: Settings, event_ids: dict[tuple[int, int], str]) -> None:
        self._settings = settings
        self._event_ids = event_ids
        self._admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap_servers})
        self.samples: list[dict[int, int]] = []
        self.unstored: list[tuple[int, int]] = []  # (partition, offset) committed, not stored
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="committed-offsets")

    def __enter__(self) -> CommittedOffsets:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self._record(self.read())

    def latest(self) -> dict[int, int]:
        return self.samples[-1] if self.samples else {}

    def read(self) -> dict[int, int]:
        group = self._settings.kafka.group_id
        request = [ConsumerGroupTopicPartitions(group)]
        answer = self._admin.list_consumer_group_offsets(request)[group].result(timeout=30)
        return {tp.partition: tp.offset for tp in answer.topic_partitions if tp.offset >= 0}

    def moved_back(self) -> list[tuple[int, int, int]]:
        """(partition, offset, later offset) for each committed offset that went down."""
        seen: dict[int, int] = {}
        back = []
        for sample in self.samples:
            for partition, offset in sample.items():
                if offset < seen.get(partition, 0):
                    back.append((partition, seen[partition], offset))
                seen[partition] = offset
        return back

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self._record(self.read())

    def _record(self, offsets: dict[int, int]) -> None:
        if offsets == self.latest():
            return
        self.samples.append(offsets)
        with psycopg.connect(self._settings.db.conninfo()) as conn:
            rows = conn.execute("SELECT event_id::text FROM plate_detections").fetchall()
        stored = {row[0] for row in rows}
        self.unstored += [
            key
            for key, event_id in self._event_ids.items()
            if key[1] < offsets.get(key[0], 0) and event_id not in stored
        ]


def _take_half_and_open(
    second: RunningStorage,
    gate: threading.Event,
    committed: CommittedOffsets,
    ends: dict[int, int],
    topic: str,
) -> None:
    """Wait until the second consumer has committed its partitions to the end; open the gate."""

    def owned() -> list[int]:
        assignment = second.service.consumer.loop.assignment
        return [p for p in ends if (topic, p) in assignment]

    def done() -> bool:
        return bool(owned()) and all(committed.latest().get(p) == ends[p] for p in owned())

    wait_until(done, timeout_s=120, what="the second's partitions committed to the end")
    assert second.metric("alpr_assigned_partitions") == 2
    gate.set()


def test_a_revoke_during_a_hand_off_never_moves_a_committed_offset_back_nor_past_the_rows(
    settings: Settings, images: ObjectImageStore
) -> None:
    """The first consumer's writes hang until the second has taken half the partitions and
    committed them to the end; then the first's writes go through. What the first had fetched
    for the partitions it lost must never be committed by it."""
    total = 800
    simulate(settings, total, inline_share=0.2, seed=61)
    event_ids = _event_ids(settings, total)
    ends = dict(Counter(partition for partition, _ in event_ids))
    small = settings.storage.model_copy(update={"batch_max_events": 100})
    gate = threading.Event()

    def at_end() -> int:
        return sum(committed.latest().get(p) == end for p, end in ends.items())

    first = CollectorRegistry()

    def paused() -> bool:  # its writer busy and its next batch ready: mid-hand-off
        return first.get_sample_value("alpr_consumer_paused") == 1

    with (
        CommittedOffsets(settings, event_ids) as committed,
        gated_storage(settings.model_copy(update={"storage": small}), gate, first),
    ):
        wait_until(paused, what="the first consumer to wait on its writer")
        with running_storage(settings) as second:
            _take_half_and_open(second, gate, committed, ends, settings.kafka.topic)
            wait_until(
                lambda: at_end() == len(ends) or bool(committed.moved_back()),
                timeout_s=120,
                what="every offset committed",
            )

    assert committed.moved_back() == []
    assert committed.unstored == []
    assert committed.latest() == ends
    assert _rows(settings) == total
