"""Fresh, private resources on the local servers for one benchmark run, and process CPU probes."""

from __future__ import annotations

import os
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from alpr_core.config import Settings
from alpr_core.db.migrate import migrate
from alpr_core.images.buckets import drop_bucket
from alpr_core.kafka_clients import kafka_client_config

REPO = Path(__file__).resolve().parents[1]
PARTITIONS = 4


def load_services_env() -> None:
    env_file = Path(os.environ.get("ALPR_SERVICES_DIR", REPO / ".services")) / "env"
    for line in env_file.read_text().splitlines():
        key, _, value = line.partition("=")
        os.environ.setdefault(key, value)


def fresh_settings(name: str, **storage: object) -> Settings:
    """Settings with a new database, topic, group and bucket named after ``name``."""
    suffix = f"{name}-{uuid.uuid4().hex[:6]}"
    base = Settings.load()
    topic = f"bench.{suffix}"
    return base.model_copy(
        update={
            "kafka": base.kafka.model_copy(
                update={"topic": topic, "dlq_topic": f"{topic}.dlq", "group_id": f"bench-{suffix}"}
            ),
            "db": base.db.model_copy(update={"name": f"bench_{suffix.replace('-', '_')}"}),
            "object_store": base.object_store.model_copy(update={"bucket": f"bench-{suffix}"}),
            "storage": base.storage.model_copy(update={"metrics_port": 0, **storage}),
        }
    )


def kept_settings(database_name: str) -> Settings:
    """Settings for a benchmark database (and bucket) that outlives the run, to be reused."""
    base = Settings.load()
    return base.model_copy(
        update={
            "db": base.db.model_copy(update={"name": database_name}),
            "object_store": base.object_store.model_copy(
                update={"bucket": "bench-" + database_name.replace("_", "-")}
            ),
        }
    )


def with_group(settings: Settings, group_id: str) -> Settings:
    return settings.model_copy(
        update={"kafka": settings.kafka.model_copy(update={"group_id": group_id})}
    )


def admin_conninfo(settings: Settings) -> str:
    user = os.environ.get("ALPR_PG_ADMIN_USER", "postgres")
    return settings.db.model_copy(update={"name": "postgres", "user": user}).conninfo()


@contextmanager
def database(settings: Settings, keep: bool = False) -> Iterator[None]:
    """A database for the run, migrated; dropped afterwards (with the run's bucket) unless
    ``keep``, in which case an existing one is reused, with any migration it lacks applied."""
    with psycopg.connect(admin_conninfo(settings), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (settings.db.name,)
        ).fetchone()
        if not exists:
            conn.execute(
                f'CREATE DATABASE "{settings.db.name}" OWNER "{settings.db.user}"'.encode()
            )
    migrate(settings.db.conninfo())
    try:
        yield
    finally:
        if not keep:
            with psycopg.connect(admin_conninfo(settings), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{settings.db.name}" WITH (FORCE)'.encode())
            drop_bucket(settings.object_store)


def create_topic(settings: Settings) -> None:
    admin = AdminClient(kafka_client_config(settings.kafka))
    topics = [NewTopic(t, PARTITIONS, 1) for t in (settings.kafka.topic, settings.kafka.dlq_topic)]
    for future in admin.create_topics(topics).values():
        future.result(timeout=30)


def row_count(settings: Settings) -> int:
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute("SELECT count(*) FROM plate_detections").fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class ServerProcesses:
    """The local servers' root processes, found by their pid files."""

    roots: dict[str, psutil.Process]

    @classmethod
    def find(cls) -> ServerProcesses:
        state = Path(os.environ.get("ALPR_SERVICES_DIR", REPO / ".services"))
        roots = {}
        for name in ("kafka", "postgres", "minio", "registry"):
            pid_file = state / name / "pid"
            if pid_file.exists():
                roots[name] = psutil.Process(int(pid_file.read_text().split()[0]))
        return cls(roots)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by each server (with its live and exited children) and by
        this process."""
        totals = {
            name: _cpu(root) + sum(_cpu(child) for child in _children(root))
            for name, root in self.roots.items()
        }
        totals["bench process"] = _cpu(psutil.Process())
        return totals


def _children(root: psutil.Process) -> list[psutil.Process]:
    try:
        return list(root.children(recursive=True))
    except psutil.NoSuchProcess:
        return []


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return float(times.user + times.system + times.children_user + times.children_system)


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}


def thread_cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by this process's live threads, by name (pool threads' numbers
    dropped, so that a pool is one entry)."""
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    totals: dict[str, float] = {}
    for thread in psutil.Process().threads():
        name = re.sub(r"_\d+$", "", names.get(thread.id, "other"))
        totals[name] = totals.get(name, 0.0) + thread.user_time + thread.system_time
    return totals


class CpuMeter:
    """CPU seconds between :meth:`start` and :meth:`stop`: each server's, the benchmark process's,
    and each of its threads' (``thread <name>``)."""

    def __init__(self, servers: ServerProcesses) -> None:
        self._servers = servers
        self._before: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def start(self) -> None:
        self._before = self._now()

    def stop(self) -> None:
        self.used = cpu_delta(self._before, self._now())

    def _now(self) -> dict[str, float]:
        threads = {f"thread {name}": cpu for name, cpu in thread_cpu_seconds().items()}
        return self._servers.cpu_seconds() | threads


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def storage_env(settings: Settings, metrics_port: int) -> dict[str, str]:
    """The environment that points an ``alpr storage`` process at ``settings``' resources."""
    return {
        **os.environ,
        **settings.as_environment(),
        "STORAGE_METRICS_HOST": "127.0.0.1",
        "STORAGE_METRICS_PORT": str(metrics_port),
    }
