"""Private PostgreSQL, Kafka, MinIO and schema registry, started through infra/*.sh with their own
state directory and ports, so faults never touch the shared servers."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from alpr_core.config import (
    DatabaseSettings,
    KafkaSettings,
    ObjectStoreSettings,
    SchemaRegistrySettings,
)

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("postgres", "kafka", "minio", "registry")
SHARED_PORTS = frozenset({15432, 19092, 19093, 19000, 19001, 18081, 18082})


@dataclass(frozen=True, slots=True)
class Ports:
    pg: int = 25432
    kafka: int = 29092
    kafka_controller: int = 29093
    s3: int = 29000
    s3_console: int = 29001
    registry: int = 28081
    registry_mgmt: int = 28082

    def all(self) -> tuple[int, ...]:
        return (
            self.pg,
            self.kafka,
            self.kafka_controller,
            self.s3,
            self.s3_console,
            self.registry,
            self.registry_mgmt,
        )


def free_ports() -> Ports:
    """Seven ports nobody listens on, below the ephemeral range (tests running side by side)."""
    chosen: list[int] = []
    port = 20000 + os.getpid() % 5000 * 2
    while len(chosen) < 7:
        port = 20000 + (port - 20000 + 1) % 12000
        if port not in SHARED_PORTS and _bindable(port):
            chosen.append(port)
    return Ports(*chosen)


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class PrivateServers:
    """start/stop/restart one server, or all, through the project's infra scripts."""

    def __init__(self, state_dir: Path, ports: Ports) -> None:
        if SHARED_PORTS & set(ports.all()):
            raise ValueError("the chaos servers must not use the shared servers' ports")
        if "chaos" not in state_dir.name or state_dir.resolve() == REPO / ".services":
            raise ValueError(f"{state_dir}: a chaos state directory's name contains 'chaos'")
        self.state_dir = state_dir
        self.ports = ports

    def script_env(self) -> dict[str, str]:
        p = self.ports
        return {
            **os.environ,
            "ALPR_SERVICES_DIR": str(self.state_dir),
            "ALPR_PG_PORT": str(p.pg),
            "ALPR_KAFKA_PORT": str(p.kafka),
            "ALPR_KAFKA_CONTROLLER_PORT": str(p.kafka_controller),
            "ALPR_S3_PORT": str(p.s3),
            "ALPR_S3_CONSOLE_PORT": str(p.s3_console),
            "ALPR_REGISTRY_PORT": str(p.registry),
            "ALPR_REGISTRY_MGMT_PORT": str(p.registry_mgmt),
            # A production registry keeps its schemas (Confluent's in a topic); so does this one.
            "ALPR_REGISTRY_PERSIST": "1",
        }

    def run(self, service: str, action: str) -> None:
        log = self.state_dir / f"infra-{service}.log"
        with log.open("a") as out:
            subprocess.run(
                ["bash", str(REPO / f"infra/{service}.sh"), action],
                env=self.script_env(),
                check=True,
                stdout=out,
                stderr=out,
            )

    def start_all(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(len(SERVICES)) as pool:
            for future in [pool.submit(self.run, s, "start") for s in SERVICES]:
                future.result()

    def stop_all(self) -> None:
        for service in reversed(SERVICES):
            with contextlib.suppress(subprocess.CalledProcessError):
                self.run(service, "stop")

    def remove_state(self) -> None:
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def minio_credentials(self) -> tuple[str, str]:
        text = (self.state_dir / "minio" / "credentials.env").read_text()
        pairs = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        return pairs["MINIO_ROOT_USER"], pairs["MINIO_ROOT_PASSWORD"]


@dataclass(frozen=True, slots=True)
class Target:
    """Where the services under test point: the private servers, one topic, one bucket."""

    kafka: KafkaSettings
    registry: SchemaRegistrySettings
    db: DatabaseSettings
    object_store: ObjectStoreSettings

    def environment(self) -> dict[str, str]:
        s3 = self.object_store
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
            "KAFKA_TOPIC": self.kafka.topic,
            "KAFKA_DLQ_TOPIC": self.kafka.dlq_topic,
            "KAFKA_GROUP_ID": self.kafka.group_id,
            "SCHEMA_REGISTRY_URL": self.registry.url,
            "DB_HOST": self.db.host,
            "DB_PORT": str(self.db.port),
            "DB_NAME": self.db.name,
            "DB_USER": self.db.user,
            "MINIO_ENDPOINT": s3.endpoint,
            "MINIO_ACCESS_KEY": s3.access_key.get_secret_value(),
            "MINIO_SECRET_KEY": s3.secret_key.get_secret_value(),
            "MINIO_BUCKET": s3.bucket,
        }


def target_of(servers: PrivateServers, topic: str = "alpr.plates.detected") -> Target:
    user, password = servers.minio_credentials()
    p = servers.ports
    return Target(
        kafka=KafkaSettings(
            bootstrap_servers=f"127.0.0.1:{p.kafka}",
            topic=topic,
            dlq_topic=f"{topic}.dlq",
            group_id="alpr-storage-chaos",
        ),
        registry=SchemaRegistrySettings(url=f"http://127.0.0.1:{p.registry}/apis/ccompat/v7"),
        db=DatabaseSettings(host="127.0.0.1", port=p.pg, name="alpr_db", user="alpr"),
        object_store=ObjectStoreSettings(
            endpoint=f"127.0.0.1:{p.s3}",
            access_key=SecretStr(user),
            secret_key=SecretStr(password),
            bucket="alpr-plate-images",
        ),
    )
