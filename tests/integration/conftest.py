"""Fixtures for tests against the real servers that ``infra/services.sh up`` starts.

A missing server fails these tests; it never skips them. Each test gets its own database, topic,
dead-letter topic, consumer group and bucket, so tests do not depend on one another.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from prometheus_client import CollectorRegistry

from alpr_core.config import Settings
from alpr_core.db.migrate import migrate
from alpr_core.images.buckets import drop_bucket, ensure_bucket
from alpr_core.images.object_store import ObjectImageStore, s3_image_store
from alpr_core.storage.service import StorageService, build_storage

REPO = Path(__file__).resolve().parents[2]
PARTITIONS = 4


def _services_env() -> dict[str, str]:
    env_file = Path(os.environ.get("ALPR_SERVICES_DIR", REPO / ".services")) / "env"
    if not env_file.exists():
        pytest.fail(f"{env_file} is missing: run `infra/services.sh up` first", pytrace=False)
    pairs = (line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    return dict(pairs)


@pytest.fixture(scope="session", autouse=True)
def services_env() -> Iterator[dict[str, str]]:
    env = _services_env()
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def admin_conninfo(settings: Settings, dbname: str = "postgres") -> str:
    db = settings.db.model_copy(update={"name": dbname, "user": os.environ["ALPR_PG_ADMIN_USER"]})
    return db.conninfo()


@pytest.fixture
def settings(services_env: dict[str, str]) -> Iterator[Settings]:
    """Settings pointing at fresh, private resources on the real servers."""
    suffix = uuid.uuid4().hex[:10]
    base = Settings.load()
    topic = f"alpr.plates.detected.test-{suffix}"
    settings = base.model_copy(
        update={
            "kafka": base.kafka.model_copy(
                update={
                    "topic": topic,
                    "dlq_topic": f"{topic}.dlq",
                    "group_id": f"alpr-storage-{suffix}",
                }
            ),
            "db": base.db.model_copy(update={"name": f"alpr_test_{suffix}"}),
            "object_store": base.object_store.model_copy(update={"bucket": f"alpr-test-{suffix}"}),
            "storage": base.storage.model_copy(
                update={
                    "batch_max_events": 500,
                    "batch_max_time_s": 0.2,
                    "retry_initial_s": 0.2,
                    "retry_max_s": 2.0,
                    "metrics_port": 0,
                }
            ),
        }
    )
    with psycopg.connect(admin_conninfo(settings), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{settings.db.name}" OWNER "{settings.db.user}"')
    migrate(settings.db.conninfo())
    _create_topics(settings, [settings.kafka.topic, settings.kafka.dlq_topic])
    yield settings
    with psycopg.connect(admin_conninfo(settings), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{settings.db.name}" WITH (FORCE)')
    _delete_topics(settings, [settings.kafka.topic, settings.kafka.dlq_topic])
    drop_bucket(settings.object_store)


def _create_topics(settings: Settings, topics: list[str]) -> None:
    admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap_servers})
    futures = admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in topics])
    for future in futures.values():
        future.result(timeout=30)


def _delete_topics(settings: Settings, topics: list[str]) -> None:
    """Each test's topics go with it: a broker kept for development had collected 20,000
    partition directories over many runs and stopped on "Too many open files"."""
    admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap_servers})
    for future in admin.delete_topics(topics, operation_timeout=30).values():
        future.result(timeout=30)


@pytest.fixture
def images(settings: Settings) -> ObjectImageStore:
    ensure_bucket(settings.object_store)
    return s3_image_store(settings.object_store)


@pytest.fixture
def empty_database(settings: Settings) -> Iterator[Settings]:
    """A database of its own, with no migration applied: for upgrade tests."""
    name = f"alpr_upgrade_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_conninfo(settings), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{settings.db.user}"')
    try:
        yield settings.model_copy(update={"db": settings.db.model_copy(update={"name": name})})
    finally:
        with psycopg.connect(admin_conninfo(settings), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def db_scalar(settings: Settings, query: str) -> int:
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute(query.encode()).fetchone()
    assert row is not None
    return int(row[0])


def wait_until(predicate: Callable[[], bool], timeout_s: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what or predicate}")
        time.sleep(0.2)


class RunningStorage:
    def __init__(self, service: StorageService, registry: CollectorRegistry) -> None:
        self.service = service
        self.registry = registry

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float:
        return self.registry.get_sample_value(name, labels or {}) or 0.0


@contextmanager
def running_storage(settings: Settings, serve_http: bool = False) -> Iterator[RunningStorage]:
    """The storage service, wired as in production, consuming in a background thread; with
    ``serve_http``, its /metrics and /health port too (``service.server``)."""
    registry = CollectorRegistry()
    service = build_storage(settings, registry, serve_http=serve_http)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            service.run()
        except BaseException as error:  # surfaced to the test below
            failure.append(error)

    thread = threading.Thread(target=run, name="storage-under-test")
    thread.start()
    try:
        yield RunningStorage(service, registry)
    finally:
        service.stop()
        thread.join(timeout=60)
    assert not thread.is_alive(), "the storage service did not stop"
    if failure:
        raise failure[0]
