"""Kafka's edge listener as docker-compose.yml configures it, on a real broker.

The `kafka` service's KAFKA_* settings become server.properties the way the apache/kafka image
renders them; only addresses, the data folder and the keystore's path are changed for loopback.
The `kafka-init` script then runs as written, with Kafka's own tools, and clients over SASL_SSL
check what the SCRAM users and ACLs allow. Needs the broker's jars (infra/kafka.sh) and
infra/kafka-tools.sh; the test fails if either is missing.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from tests.deploy.compose import ENV_EXAMPLE, REPO, load_compose, read_env_file

KEYSTORE_PASSWORD = "keystore-test-password"
PASSWORDS = {"edge": "edgeTestPassword1", "storage": "storageTestPassword1"}
TOPIC = "alpr.plates.detected"
DLQ_TOPIC = "alpr.plates.detected.dlq"
GROUP = "alpr-storage"
START_TIMEOUT_S = 90.0
# Environment the apache/kafka image keeps for the JVM rather than rendering as properties.
NOT_PROPERTIES = {
    "KAFKA_HEAP_OPTS",
    "KAFKA_OPTS",
    "KAFKA_JMX_OPTS",
    "KAFKA_LOG4J_OPTS",
    "KAFKA_JVM_PERFORMANCE_OPTS",
    "KAFKA_GC_LOG_OPTS",
    "KAFKA_LOG4J_ROOT_LOGLEVEL",
    "KAFKA_TOOLS_LOG4J_LOGLEVEL",
    "KAFKA_VERSION",
}
TOOLS = {
    "kafka-topics.sh": "org.apache.kafka.tools.TopicCommand",
    "kafka-configs.sh": "kafka.admin.ConfigCommand",
    "kafka-acls.sh": "org.apache.kafka.tools.AclCommand",
}


def property_name(variable: str) -> str:
    """KAFKA_A_B__C___D -> a.b_c-d, the image's rule."""
    name = variable.removeprefix("KAFKA_").lower()
    return name.replace("___", "-").replace("__", "\0").replace("_", ".").replace("\0", "_")


def rendered_properties(environment: dict[str, Any]) -> dict[str, str]:
    return {
        property_name(name): str(value)
        for name, value in environment.items()
        if name.startswith("KAFKA_") and name not in NOT_PROPERTIES
    }


@pytest.mark.parametrize(
    ("variable", "expected"),
    [
        pytest.param("KAFKA_NODE_ID", "node.id", id="underscores are dots"),
        pytest.param(
            "KAFKA_LISTENER_NAME_EDGE_SCRAM___SHA___512_SASL_JAAS_CONFIG",
            "listener.name.edge.scram-sha-512.sasl.jaas.config",
            id="three underscores are a dash",
        ),
        pytest.param("KAFKA_A__B", "a_b", id="two underscores are one"),
    ],
)
def test_property_names_follow_the_images_rule(variable: str, expected: str) -> None:
    assert property_name(variable) == expected


# --- the broker -----------------------------------------------------------------------------------


def folder_of(script: str) -> Path:
    found = subprocess.run(
        ["bash", str(REPO / "infra" / script), "path"], capture_output=True, text=True, check=False
    )
    assert found.returncode == 0, f"missing: run `bash infra/{script} install`"
    return Path(found.stdout.strip())


def broker_jars() -> Path:
    cache = Path(os.environ.get("ALPR_CACHE_DIR", Path.home() / ".cache/alpr-core"))
    jars = cache / "kafka/lib"
    assert list(jars.glob("kafka_2.13-*.jar")), (
        "Kafka's jars are missing: run `infra/kafka.sh start`"
    )
    return jars


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def openssl(arguments: str, cwd: Path) -> None:
    command = ["openssl", *shlex.split(arguments)]
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, timeout=60)


def make_keystore(folder: Path) -> tuple[Path, Path]:
    """A CA, and a PKCS12 keystore with a broker certificate for localhost that it signed."""
    openssl(
        "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key -out ca.crt",
        folder,
    )
    openssl(
        "req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout kafka.key -out kafka.csr", folder
    )
    (folder / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl(
        "x509 -req -in kafka.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2"
        " -extfile san.ext -out kafka.crt",
        folder,
    )
    openssl(
        "pkcs12 -export -in kafka.crt -inkey kafka.key -certfile ca.crt"
        f" -passout pass:{KEYSTORE_PASSWORD} -out keystore.p12",
        folder,
    )
    return folder / "keystore.p12", folder / "ca.crt"


@dataclass(frozen=True)
class Broker:
    internal: str
    edge: str
    ca: Path
    services: dict[str, dict[str, Any]]


def compose_services() -> dict[str, dict[str, Any]]:
    env = read_env_file(ENV_EXAMPLE) | {"KAFKA_TLS_KEYSTORE_PASSWORD": KEYSTORE_PASSWORD}
    return dict(load_compose(env)["services"])


def local_properties(
    services: dict[str, dict[str, Any]], ports: dict[str, int], data: Path, keystore: Path
) -> dict[str, str]:
    """The compose file's properties with what only makes sense in a container changed."""
    properties = rendered_properties(services["kafka"]["environment"])
    loopback = {
        "listeners": "INTERNAL://127.0.0.1:{internal},EDGE://127.0.0.1:{edge},"
        "CONTROLLER://127.0.0.1:{controller}",
        "advertised.listeners": "INTERNAL://127.0.0.1:{internal},EDGE://localhost:{edge}",
        "controller.quorum.voters": "1@127.0.0.1:{controller}",
        "log.dirs": str(data),
        "ssl.keystore.location": str(keystore),
    }
    assert set(loopback) <= set(properties)
    return properties | {name: value.format(**ports) for name, value in loopback.items()}


def run_java(jars: str, *arguments: str, log: Path) -> subprocess.CompletedProcess[bytes]:
    with log.open("a") as out:
        return subprocess.run(
            ["java", "-Xmx256m", "-cp", jars, *arguments],
            stdout=out,
            stderr=out,
            check=False,
            timeout=120,
        )


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    jars = f"{broker_jars()}/*:{folder_of('kafka-tools.sh')}/*"
    home = tmp_path_factory.mktemp("kafka-edge")
    keystore, ca = make_keystore(home)
    services = compose_services()
    ports = {"internal": free_port(), "edge": free_port(), "controller": free_port()}
    properties = local_properties(services, ports, home / "data", keystore)
    config = home / "server.properties"
    config.write_text("".join(f"{name}={value}\n" for name, value in properties.items()))
    cluster_id = services["kafka"]["environment"]["CLUSTER_ID"]
    log = home / "kafka.log"
    formatted = run_java(
        jars, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config), log=log
    )
    assert formatted.returncode == 0, log.read_text()
    with log.open("a") as out:
        process = subprocess.Popen(
            ["java", "-Xmx512m", "-cp", jars, "kafka.Kafka", str(config)], stdout=out, stderr=out
        )
    internal = f"127.0.0.1:{ports['internal']}"
    try:
        wait_until_answering(internal, process, log)
        yield Broker(internal, f"localhost:{ports['edge']}", ca, services)
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_answering(bootstrap: str, process: subprocess.Popen[bytes], log: Path) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 3000})
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"kafka exited:\n{log.read_text()[-5000:]}"
        try:
            if 1 in admin.list_topics(timeout=3).brokers:
                return
        except KafkaException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"kafka did not answer in {START_TIMEOUT_S} s:\n{log.read_text()[-5000:]}")


@pytest.fixture(scope="module")
def initialised(broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Broker:
    """`kafka-init`'s script, run as written against the broker's internal listener."""
    jars = f"{broker_jars()}/*:{folder_of('kafka-tools.sh')}/*"
    bin_dir = tmp_path_factory.mktemp("kafka-bin")
    for tool, main_class in TOOLS.items():
        wrapper = bin_dir / tool
        wrapper.write_text(f'#!/bin/sh\nexec java -Xmx256m -cp "{jars}" {main_class} "$@"\n')
        wrapper.chmod(0o755)
    init = broker.services["kafka-init"]
    script = init["command"][0]
    assert script.count("bin=/opt/kafka/bin") == 1
    assert script.count("kafka:29092") == 1
    script = script.replace("bin=/opt/kafka/bin", f"bin={bin_dir}")
    script = script.replace("kafka:29092", broker.internal)
    environment = {name: str(value) for name, value in init["environment"].items()} | {
        "EDGE_PASSWORD": PASSWORDS["edge"],
        "STORAGE_PASSWORD": PASSWORDS["storage"],
    }
    assert environment["TOPIC"] == TOPIC
    assert environment["GROUP"] == GROUP
    result = subprocess.run(
        [*init["entrypoint"], script],
        env={"PATH": os.environ["PATH"], **environment},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return broker


def client_config(broker: Broker, user: str, password: str | None = None) -> dict[str, Any]:
    return {
        "bootstrap.servers": broker.edge,
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": user,
        "sasl.password": password or PASSWORDS[user],
        "ssl.ca.location": str(broker.ca),
    }


def produce(broker: Broker, user: str, topic: str, value: bytes) -> KafkaError | None:
    producer = Producer(client_config(broker, user) | {"message.timeout.ms": 15000})
    outcome: list[KafkaError | None] = []
    producer.produce(topic, value, on_delivery=lambda error, _message: outcome.append(error))
    producer.flush(20)
    assert outcome, "no delivery report"
    return outcome[0]


def consume_one(broker: Broker, user: str, topic: str) -> tuple[bytes | None, KafkaError | None]:
    consumer = Consumer(
        client_config(broker, user)
        | {"group.id": GROUP, "auto.offset.reset": "earliest", "enable.auto.commit": False}
    )
    consumer.subscribe([topic])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                return None, message.error()
            return message.value(), None
        return None, None
    finally:
        consumer.close()


def test_edge_produces_to_the_plate_topic(initialised: Broker) -> None:
    assert produce(initialised, "edge", TOPIC, b"from-edge") is None


def test_storage_consumes_the_plate_topic_with_its_group(initialised: Broker) -> None:
    marker = f"for-storage-{uuid.uuid4()}".encode()
    assert produce(initialised, "edge", TOPIC, marker) is None
    value, error = consume_one(initialised, "storage", TOPIC)
    assert error is None
    assert value is not None


def test_storage_produces_to_the_dead_letter_topic(initialised: Broker) -> None:
    assert produce(initialised, "storage", DLQ_TOPIC, b"dead-letter") is None


@pytest.mark.parametrize(
    ("user", "topic"),
    [
        pytest.param("edge", DLQ_TOPIC, id="edge to the dead-letter topic"),
        pytest.param("storage", TOPIC, id="storage to the plate topic"),
    ],
)
def test_writes_outside_the_acls_are_refused(initialised: Broker, user: str, topic: str) -> None:
    error = produce(initialised, user, topic, b"refused")
    assert error is not None
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_edge_cannot_read(initialised: Broker) -> None:
    value, error = consume_one(initialised, "edge", TOPIC)
    assert value is None
    assert error is not None
    assert error.code() in (
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
    )


def test_a_wrong_password_is_refused(initialised: Broker) -> None:
    errors: list[KafkaError] = []
    producer = Producer(
        client_config(initialised, "edge", "not-the-password")
        | {"error_cb": errors.append, "log_level": 0}
    )
    producer.produce(TOPIC, b"refused")
    deadline = time.monotonic() + 15
    while not errors and time.monotonic() < deadline:
        producer.poll(0.5)
    assert [error.code() for error in errors[:1]] == [KafkaError._AUTHENTICATION]
    producer.purge()
