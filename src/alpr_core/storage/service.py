"""Wire the storage service from settings and run it until SIGTERM or SIGINT."""

from __future__ import annotations

import gc
import signal
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any
from wsgiref.simple_server import WSGIServer

import structlog
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from prometheus_client import CollectorRegistry
from psycopg_pool import ConnectionPool
from tenacity import Retrying, retry_if_exception_type, wait_exponential_jitter

from alpr_core.config import Settings
from alpr_core.errors import TransientError
from alpr_core.events.avro import EventDecoder
from alpr_core.images.buckets import ensure_bucket
from alpr_core.images.object_store import image_store
from alpr_core.jobs import Jobs, build_jobs
from alpr_core.jobs.alert_dispatch import DeliveryMetrics
from alpr_core.kafka_clients import kafka_client_config, registry_client_config
from alpr_core.metrics import StorageMetrics
from alpr_core.policies import backoff, event_limits
from alpr_core.storage.batch_writer import BatchWriter
from alpr_core.storage.consumer import LoopSettings, StorageConsumer
from alpr_core.storage.dead_letter import DeadLetterPublisher
from alpr_core.storage.health import Liveness, serve_health
from alpr_core.storage.lag import record_lag
from alpr_core.storage.sink_setup import detection_sink

log = structlog.get_logger("alpr.storage")


def consumer_config(settings: Settings) -> dict[str, Any]:
    """How the storage service consumes: manual commits after durability, cooperative
    rebalances, and a session short enough that a dead consumer's partitions move on soon."""
    return kafka_client_config(settings.kafka) | {
        "group.id": settings.kafka.group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": "cooperative-sticky",
        "session.timeout.ms": settings.kafka.session_timeout_ms,
        "heartbeat.interval.ms": max(settings.kafka.session_timeout_ms // 4, 500),
        "client.id": "alpr-storage",
    }


def kafka_consumer(settings: Settings, metrics: StorageMetrics) -> Consumer:
    stats = {
        "statistics.interval.ms": 5000,
        "stats_cb": lambda stats: record_lag(metrics.consumer_lag, stats),
    }
    return Consumer(consumer_config(settings) | stats)


def dead_letter_producer(settings: Settings) -> Producer:
    return Producer(
        kafka_client_config(settings.kafka)
        | {
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "client.id": "alpr-storage-dlq",
        }
    )


def loop_settings(settings: Settings) -> LoopSettings:
    s = settings.storage
    return LoopSettings(
        topic=settings.kafka.topic,
        batch_max_events=s.batch_max_events,
        batch_max_time_s=s.batch_max_time_s,
        backoff=backoff(settings),
        shutdown_grace_s=s.shutdown_grace_s,
    )


@dataclass
class StorageService:
    """The wired storage service; :meth:`run` blocks until :meth:`stop` or a signal."""

    consumer: StorageConsumer
    metrics: StorageMetrics
    pool: ConnectionPool
    jobs: Jobs
    server: WSGIServer | None

    def run(self) -> None:
        self.jobs.start()
        try:
            self.consumer.run()
        finally:
            self.jobs.stop()
            self.pool.close()
            if self.server:
                self.server.shutdown()
                self.server.server_close()

    def stop(self) -> None:
        self.consumer.request_stop()


def build_storage(
    settings: Settings, registry: CollectorRegistry, serve_http: bool = True
) -> StorageService:
    metrics = StorageMetrics(registry)
    liveness = Liveness()
    server = None
    if serve_http:
        server = serve_health(
            settings.storage.metrics_host, settings.storage.metrics_port, registry, liveness
        )
    _retry_at_startup(lambda: ensure_bucket(settings.object_store))
    images = image_store(settings)
    pool = ConnectionPool(  # the writer's, the alert recorder's, the camera registry's
        settings.db.conninfo(),
        min_size=1,
        max_size=3,
        open=False,
        check=ConnectionPool.check_connection,
    )
    pool.open(wait=False)
    writer = BatchWriter(
        detection_sink(settings, pool, images, metrics),
        DeadLetterPublisher(dead_letter_producer(settings), settings.kafka.dlq_topic),
        metrics,
        backoff(settings),
        liveness,
    )
    consumer = StorageConsumer(
        kafka_consumer(settings, metrics),
        EventDecoder(
            SchemaRegistryClient(registry_client_config(settings.registry)), event_limits(settings)
        ),
        writer,
        metrics,
        loop_settings(settings),
        liveness,
    )
    jobs = build_jobs(
        settings,
        index_plates=True,
        retention=(images, metrics),
        deliver_alerts=DeliveryMetrics(registry),
    )
    return StorageService(consumer, metrics, pool, jobs, server)


def tune_gc_for_batches() -> None:
    """Collect young objects less often: a batch holds thousands of decoded events, and the
    default threshold (700 allocations) makes the collector rescan them many times per batch.
    Hence a threshold of 50,000 (docs/decisions.md#writer-thread)."""
    gc.freeze()  # objects alive after startup are never garbage; stop rescanning them
    gc.set_threshold(50_000, 20, 100)


def run_storage(settings: Settings) -> None:
    """Run the consumer until SIGTERM or SIGINT; the batch in flight is finished first."""
    tune_gc_for_batches()
    service = build_storage(settings, CollectorRegistry())
    _stop_on_signals(service.consumer)
    service.run()


def _retry_at_startup(fn: Callable[[], None]) -> None:
    """Wait for a dependency at startup with backoff instead of crash-looping."""
    for attempt in Retrying(
        retry=retry_if_exception_type(TransientError),
        wait=wait_exponential_jitter(multiplier=0.5, max=30),
        before_sleep=lambda state: log.warning(
            "waiting for a dependency at startup", attempt=state.attempt_number
        ),
    ):
        with attempt:
            fn()


def _stop_on_signals(consumer: StorageConsumer) -> None:
    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("stop requested", signal=signal.Signals(signum).name)
        consumer.request_stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
