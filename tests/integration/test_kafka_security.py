"""Kafka over SASL_SSL (SCRAM-SHA-512) with ACLs, on a private broker.

infra/kafka.sh starts the broker with its own state folder and free ports, a SECURED listener
(ALPR_KAFKA_SASL_SSL_PORT), a certificate made here for 127.0.0.1 and localhost, the
StandardAuthorizer, and three SCRAM users made when the storage is formatted: `admin` (a super
user), `storage` (reads the plate topic with its group, writes the dead-letter topic) and `edge`
(writes the plate topic). The clients are configured the way the services configure them, from
settings (alpr_core.kafka_clients). The shared broker is never touched. Without Kafka's jars or
java, these tests fail.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from bench.chaos.servers import free_ports
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import SecretStr

from alpr_core.config import KafkaSettings, Settings
from alpr_core.kafka_clients import kafka_client_config
from alpr_core.storage.service import consumer_config, dead_letter_producer

REPO = Path(__file__).resolve().parents[2]
TOPIC = "alpr.plates.detected"
DLQ_TOPIC = "alpr.plates.detected.dlq"
GROUP = "alpr-storage"
USERS = ("admin", "storage", "edge")
ERROR_WAIT_S = 15.0


@dataclass(frozen=True)
class Authority:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    pem: Path


@dataclass(frozen=True)
class Broker:
    bootstrap: str  # the SECURED listener
    ca: Path
    passwords: dict[str, str]

    def settings(self, user: str, ca: Path | None = None) -> KafkaSettings:
        return KafkaSettings(
            bootstrap_servers=self.bootstrap,
            topic=TOPIC,
            dlq_topic=DLQ_TOPIC,
            group_id=GROUP,
            security_protocol="SASL_SSL",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_username=user,
            sasl_password=SecretStr(self.passwords[user]),
            ssl_ca_location=str(ca or self.ca),
        )


# --- certificates -------------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: str, key: rsa.RSAPrivateKey) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def make_authority(folder: Path, name: str) -> Authority:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = (
        _builder(name, name, key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = folder / f"{name}.pem"
    pem.write_bytes(_pem(certificate))
    return Authority(key, certificate, pem)


def make_server_keystore(folder: Path, authority: Authority) -> Path:
    """A PEM keystore (PKCS#8 key, then the chain) for localhost and 127.0.0.1."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    names = [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
    issuer = authority.certificate.subject.rfc4514_string().removeprefix("CN=")
    certificate = (
        _builder("localhost", issuer, key)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(authority.key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    keystore = folder / "broker-keystore.pem"
    keystore.write_bytes(private + _pem(certificate) + _pem(authority.certificate))
    keystore.chmod(0o600)
    return keystore


# --- the broker ---------------------------------------------------------------------------------


def broker_properties(keystore: Path) -> str:
    return "".join(
        f"{line}\n"
        for line in (
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={keystore}",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            # ANONYMOUS is the controller's and the loopback PLAINTEXT listener's principal
            "super.users=User:admin;User:ANONYMOUS",
            "allow.everyone.if.no.acl.found=false",
            "auto.create.topics.enable=false",
        )
    )


def kafka_script(action: str, env: dict[str, str], state: Path) -> None:
    log = state / "infra-kafka.log"
    with log.open("a") as out:
        done = subprocess.run(
            ["bash", str(REPO / "infra/kafka.sh"), action],
            env=env,
            stdout=out,
            stderr=out,
            check=False,
            timeout=180,
        )
    assert done.returncode == 0, f"infra/kafka.sh {action} failed:\n{log.read_text()[-5000:]}"


def acls() -> list[AclBinding]:
    def allow(kind: ResourceType, name: str, user: str, operation: AclOperation) -> AclBinding:
        return AclBinding(
            kind,
            name,
            ResourcePatternType.LITERAL,
            f"User:{user}",
            "*",
            operation,
            AclPermissionType.ALLOW,
        )

    return [
        allow(ResourceType.TOPIC, TOPIC, "edge", AclOperation.WRITE),
        allow(ResourceType.TOPIC, TOPIC, "storage", AclOperation.READ),
        allow(ResourceType.GROUP, GROUP, "storage", AclOperation.READ),
        allow(ResourceType.TOPIC, DLQ_TOPIC, "storage", AclOperation.WRITE),
    ]


def set_up_topics_and_acls(broker: Broker) -> None:
    """As the admin, over the secured listener."""
    admin = AdminClient(kafka_client_config(broker.settings("admin")))
    topics = [NewTopic(TOPIC, num_partitions=2), NewTopic(DLQ_TOPIC, num_partitions=1)]
    for future in admin.create_topics(topics, operation_timeout=30).values():
        future.result()
    for future in admin.create_acls(acls(), request_timeout=30).values():
        future.result()
    wait_for_grants(broker)


def wait_for_grants(broker: Broker) -> None:
    """The controller accepts ACLs before the broker's authorizer applies them: wait for both
    granted writes to succeed, so that no test races the metadata log."""
    deadline = time.monotonic() + 60
    for user, topic in (("edge", TOPIC), ("storage", DLQ_TOPIC)):
        while (
            error := produce(kafka_client_config(broker.settings(user)), topic, b"ready")
        ) is not None:
            assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, error
            assert time.monotonic() < deadline, f"{user} may still not write {topic}"
            time.sleep(0.5)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    state = tmp_path_factory.mktemp("kafka-security")
    authority = make_authority(state, "test-ca")
    keystore = make_server_keystore(state, authority)
    passwords = {user: secrets.token_urlsafe(18) for user in USERS}
    extra = state / "extra.properties"
    extra.write_text(broker_properties(keystore))
    scram = state / "scram-users"
    scram.write_text(
        "".join(f"SCRAM-SHA-512=[name={u},password={p}]\n" for u, p in passwords.items())
    )
    scram.chmod(0o600)
    plain, controller, secured = free_ports().all()[:3]
    env = os.environ | {
        "ALPR_SERVICES_DIR": str(state / "services"),
        "ALPR_KAFKA_PORT": str(plain),
        "ALPR_KAFKA_CONTROLLER_PORT": str(controller),
        "ALPR_KAFKA_SASL_SSL_PORT": str(secured),
        "ALPR_KAFKA_EXTRA_PROPERTIES": str(extra),
        "ALPR_KAFKA_SCRAM_USERS": str(scram),
    }
    try:
        kafka_script("start", env, state)
        started = Broker(f"127.0.0.1:{secured}", authority.pem, passwords)
        set_up_topics_and_acls(started)
        yield started
    finally:
        kafka_script("stop", env, state)


# --- clients ------------------------------------------------------------------------------------


def produce(config: dict[str, Any], topic: str, value: bytes) -> KafkaError | None:
    producer = Producer(config | {"message.timeout.ms": 15_000})
    outcome: list[KafkaError | None] = []
    producer.produce(topic, value, on_delivery=lambda error, _message: outcome.append(error))
    producer.flush(20)
    assert outcome, "no delivery report"
    return outcome[0]


def first_errors(config: dict[str, Any]) -> list[int]:
    """The error codes a client reports while it tries to reach the cluster."""
    errors: list[KafkaError] = []
    admin = AdminClient(config | {"error_cb": errors.append, "log_level": 0})
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=5)
    deadline = time.monotonic() + ERROR_WAIT_S
    while not errors and time.monotonic() < deadline:
        admin.poll(0.5)
    return [error.code() for error in errors]


@pytest.fixture
def storage_settings(broker: Broker, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The storage service's settings, read from its environment variables."""
    for name, value in {
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "KAFKA_TOPIC": TOPIC,
        "KAFKA_DLQ_TOPIC": DLQ_TOPIC,
        "KAFKA_GROUP_ID": GROUP,
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME": "storage",
        "KAFKA_SASL_PASSWORD": broker.passwords["storage"],
        "KAFKA_SSL_CA_LOCATION": str(broker.ca),
    }.items():
        monkeypatch.setenv(name, value)
    return Settings.load()


def consume_marker(consumer: Consumer, marker: bytes) -> Any:
    consumer.subscribe([TOPIC])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        message = consumer.poll(1.0)
        if message is None:
            continue
        assert message.error() is None, message.error()
        if message.value() == marker:
            return message
    raise AssertionError("the edge's message was not consumed")


# --- what the ACLs and TLS allow ----------------------------------------------------------------


def test_storage_consumes_what_the_edge_produced_and_commits(
    broker: Broker, storage_settings: Settings
) -> None:
    marker = f"plate-{uuid.uuid4()}".encode()
    assert produce(kafka_client_config(broker.settings("edge")), TOPIC, marker) is None
    consumer = Consumer(consumer_config(storage_settings))
    try:
        message = consume_marker(consumer, marker)
        consumer.commit(message=message, asynchronous=False)
        [committed] = consumer.committed([TopicPartition(TOPIC, message.partition())], timeout=10)
        assert committed.offset == message.offset() + 1
    finally:
        consumer.close()


def test_storage_writes_dead_letters(storage_settings: Settings) -> None:
    producer = dead_letter_producer(storage_settings)
    outcome: list[KafkaError | None] = []
    producer.produce(DLQ_TOPIC, b"dead", on_delivery=lambda error, _m: outcome.append(error))
    producer.flush(20)
    assert outcome == [None]


@pytest.mark.parametrize(
    ("user", "topic"),
    [
        pytest.param("edge", DLQ_TOPIC, id="edge to the dead-letter topic"),
        pytest.param("storage", TOPIC, id="storage to the plate topic"),
    ],
)
def test_writes_outside_the_acls_are_refused(broker: Broker, user: str, topic: str) -> None:
    error = produce(kafka_client_config(broker.settings(user)), topic, b"refused")
    assert error is not None
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_the_edge_cannot_consume(broker: Broker) -> None:
    consumer = Consumer(
        kafka_client_config(broker.settings("edge"))
        | {"group.id": GROUP, "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([TOPIC])
    try:
        deadline = time.monotonic() + 30
        message = None
        while message is None and time.monotonic() < deadline:
            message = consumer.poll(1.0)
        assert message is not None, "neither a message nor an error"
        error = message.error()
        assert error is not None
        assert error.code() in (
            KafkaError.TOPIC_AUTHORIZATION_FAILED,
            KafkaError.GROUP_AUTHORIZATION_FAILED,
        )
    finally:
        consumer.close()


@pytest.mark.parametrize(
    "protocol",
    [
        pytest.param("PLAINTEXT", id="no TLS and no credentials"),
        pytest.param("SSL", id="TLS and no credentials"),
    ],
)
def test_a_client_without_credentials_is_refused(broker: Broker, protocol: str) -> None:
    config = {"bootstrap.servers": broker.bootstrap, "security.protocol": protocol}
    if protocol == "SSL":
        config["ssl.ca.location"] = str(broker.ca)
    # the broker drops the connection before it answers anything but ApiVersions
    assert KafkaError._ALL_BROKERS_DOWN in first_errors(config)


def test_a_wrong_password_is_refused(broker: Broker) -> None:
    settings = broker.settings("edge").model_copy(
        update={"sasl_password": SecretStr("not-the-password")}
    )
    assert first_errors(kafka_client_config(settings))[:1] == [KafkaError._AUTHENTICATION]


def test_a_broker_signed_by_another_ca_is_refused(broker: Broker, tmp_path: Path) -> None:
    stranger = make_authority(tmp_path, "another-ca")
    config = kafka_client_config(broker.settings("edge", ca=stranger.pem))
    assert first_errors(config)[:1] == [KafkaError._SSL]
