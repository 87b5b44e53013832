"""Settings turned into the configs of Kafka and schema registry clients.

Every producer, consumer, admin client and registry client starts from these dicts, so the
broker's address, TLS and SASL credentials are set in one place
(docs/decisions.md#kafka-security). Callers add their own keys (group, acks, ...) with ``|``.
The dicts hold secrets: pass them to the client, never log them.
"""

from __future__ import annotations

from typing import Any

from alpr_core.config import KafkaSettings, SchemaRegistrySettings


def kafka_client_config(kafka: KafkaSettings) -> dict[str, Any]:
    """bootstrap.servers with the security.*, sasl.* and ssl.* keys the protocol needs."""
    config: dict[str, Any] = {
        "bootstrap.servers": kafka.bootstrap_servers,
        "security.protocol": kafka.security_protocol,
    }
    if kafka.uses_sasl:
        config |= {
            "sasl.mechanism": kafka.sasl_mechanism,
            "sasl.username": kafka.sasl_username,
            "sasl.password": kafka.sasl_password.get_secret_value(),
        }
    if kafka.uses_tls:
        config["ssl.endpoint.identification.algorithm"] = (
            "https" if kafka.ssl_endpoint_identification else "none"
        )
        if kafka.ssl_ca_location:
            config["ssl.ca.location"] = kafka.ssl_ca_location
    return config


def registry_client_config(registry: SchemaRegistrySettings) -> dict[str, Any]:
    """The registry's url, with basic auth and a CA file when they are set."""
    config: dict[str, Any] = {"url": registry.url}
    if registry.username:
        password = registry.password.get_secret_value()
        config["basic.auth.user.info"] = f"{registry.username}:{password}"
    if registry.ssl_ca_location:
        config["ssl.ca.location"] = registry.ssl_ca_location
    return config
