from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from alpr_core.config import KafkaSettings, SchemaRegistrySettings, Settings
from alpr_core.kafka_clients import kafka_client_config, registry_client_config
from alpr_core.storage.service import consumer_config

BROKER = "broker:9093"
PASSWORD = "kafka-test-password"
SASL = {
    "sasl.mechanism": "SCRAM-SHA-512",
    "sasl.username": "storage",
    "sasl.password": PASSWORD,
}
TLS = {"ssl.endpoint.identification.algorithm": "https", "ssl.ca.location": "/tls/ca.pem"}


def kafka(**fields: Any) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=BROKER, **fields)


def secured(protocol: str, **fields: Any) -> KafkaSettings:
    credentials = {
        "sasl_username": "storage",
        "sasl_password": SecretStr(PASSWORD),
        "ssl_ca_location": "/tls/ca.pem",
    }
    return kafka(security_protocol=protocol, **(credentials | fields))


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        pytest.param(
            kafka(),
            {"bootstrap.servers": BROKER, "security.protocol": "PLAINTEXT"},
            id="plaintext: the address alone",
        ),
        pytest.param(
            secured("PLAINTEXT"),
            {"bootstrap.servers": BROKER, "security.protocol": "PLAINTEXT"},
            id="plaintext ignores credentials and the CA",
        ),
        pytest.param(
            secured("SSL"),
            {"bootstrap.servers": BROKER, "security.protocol": "SSL"} | TLS,
            id="ssl: the CA, hostname checked",
        ),
        pytest.param(
            secured("SASL_PLAINTEXT"),
            {"bootstrap.servers": BROKER, "security.protocol": "SASL_PLAINTEXT"} | SASL,
            id="sasl_plaintext: credentials, no TLS keys",
        ),
        pytest.param(
            secured("SASL_SSL"),
            {"bootstrap.servers": BROKER, "security.protocol": "SASL_SSL"} | SASL | TLS,
            id="sasl_ssl: credentials and TLS",
        ),
        pytest.param(
            secured("SASL_SSL", sasl_mechanism="SCRAM-SHA-256", ssl_endpoint_identification=False),
            {"bootstrap.servers": BROKER, "security.protocol": "SASL_SSL"}
            | SASL
            | {"sasl.mechanism": "SCRAM-SHA-256"}
            | TLS
            | {"ssl.endpoint.identification.algorithm": "none"},
            id="another mechanism, hostname not checked",
        ),
        pytest.param(
            secured("SSL", ssl_ca_location=""),
            {
                "bootstrap.servers": BROKER,
                "security.protocol": "SSL",
                "ssl.endpoint.identification.algorithm": "https",
            },
            id="ssl without a CA file: the system's CAs",
        ),
    ],
)
def test_kafka_client_config(settings: KafkaSettings, expected: dict[str, Any]) -> None:
    assert kafka_client_config(settings) == expected


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="neither"),
        pytest.param({"sasl_username": "storage"}, id="no password"),
        pytest.param({"sasl_password": SecretStr(PASSWORD)}, id="no username"),
    ],
)
@pytest.mark.parametrize("protocol", ["SASL_SSL", "SASL_PLAINTEXT"])
def test_sasl_needs_a_username_and_password(protocol: str, fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        kafka(security_protocol=protocol, **fields)


def test_a_refused_setting_never_shows_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", PASSWORD)
    monkeypatch.delenv("KAFKA_SASL_USERNAME", raising=False)
    with pytest.raises(ValidationError) as refused:
        Settings.load()
    assert PASSWORD not in str(refused.value)


def test_unknown_protocols_and_mechanisms_are_refused() -> None:
    with pytest.raises(ValidationError, match="security_protocol"):
        kafka(security_protocol="TLS")
    with pytest.raises(ValidationError, match="sasl_mechanism"):
        kafka(sasl_mechanism="GSSAPI")


def test_secrets_are_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "storage")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("SCHEMA_REGISTRY_USERNAME", "alpr")
    monkeypatch.setenv("SCHEMA_REGISTRY_PASSWORD", "registry-test-password")
    settings = Settings.load()
    for shown in (repr(settings), str(settings), repr(settings.kafka), str(settings.registry)):
        assert PASSWORD not in shown
        assert "registry-test-password" not in shown
    assert settings.kafka.sasl_password.get_secret_value() == PASSWORD


def test_the_storage_consumer_keeps_its_keys_and_gains_the_security_ones() -> None:
    settings = Settings.load().model_copy(update={"kafka": secured("SASL_SSL")})
    config = consumer_config(settings)
    assert config.items() >= kafka_client_config(settings.kafka).items()
    assert config["group.id"] == settings.kafka.group_id
    assert config["enable.auto.commit"] is False


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        pytest.param(
            SchemaRegistrySettings(url="http://registry:8081"),
            {"url": "http://registry:8081"},
            id="the url alone",
        ),
        pytest.param(
            SchemaRegistrySettings(
                url="https://registry.example:8443",
                username="alpr",
                password=SecretStr("registry-test-password"),
                ssl_ca_location="/tls/ca.pem",
            ),
            {
                "url": "https://registry.example:8443",
                "basic.auth.user.info": "alpr:registry-test-password",
                "ssl.ca.location": "/tls/ca.pem",
            },
            id="basic auth and a CA file",
        ),
    ],
)
def test_registry_client_config(settings: SchemaRegistrySettings, expected: dict[str, Any]) -> None:
    assert registry_client_config(settings) == expected


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"username": "alpr"}, id="a username alone"),
        pytest.param({"password": SecretStr("registry-test-password")}, id="a password alone"),
    ],
)
def test_registry_credentials_come_in_pairs(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="SCHEMA_REGISTRY_USERNAME"):
        SchemaRegistrySettings(url="https://registry", **fields)


def test_a_placeholder_password_is_refused() -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        secured("SASL_SSL", sasl_password=SecretStr("change-me-kafka"))
