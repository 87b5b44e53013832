from __future__ import annotations

import pytest
from pydantic import ValidationError

from alpr_core.config import Settings


def test_the_seed_environment_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:1")
    monkeypatch.setenv("KAFKA_TOPIC", "t")
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", "http://sr:1")
    monkeypatch.setenv("DB_HOST", "db")
    monkeypatch.setenv("DB_PORT", "6543")
    monkeypatch.setenv("MINIO_ENDPOINT", "s3:9")
    settings = Settings.load()
    assert settings.kafka.bootstrap_servers == "broker:1"
    assert settings.kafka.topic == "t"
    assert settings.registry.url == "http://sr:1"
    assert (settings.db.host, settings.db.port) == ("db", 6543)
    assert settings.object_store.endpoint_url() == "http://s3:9"


def test_no_password_has_a_default_and_secrets_are_not_printed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("DB_PASSWORD", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.load()
    assert settings.db.password.get_secret_value() == ""
    assert "password" not in settings.db.conninfo()
    monkeypatch.setenv("DB_PASSWORD", "s3cr3t")
    settings = Settings.load()
    assert "s3cr3t" not in repr(settings)
    assert "password=s3cr3t" in settings.db.conninfo()


def test_retention_defaults_to_90_days() -> None:
    assert Settings.load().retention.days == 90


def test_settings_round_trip_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PASSWORD", "pw")
    monkeypatch.setenv("STORAGE_BATCH_MAX_EVENTS", "123")
    monkeypatch.setenv("LOG_PLATE_TEXT", "true")
    original = Settings.load()
    env = original.as_environment()
    assert env["DB_PASSWORD"] == "pw"
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == original.kafka.bootstrap_servers
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert Settings.load() == original


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("DB_PASSWORD", "change-me-db-password", id=".env.example's db password"),
        pytest.param("MINIO_SECRET_KEY", "CHANGE-ME", id="any case"),
        pytest.param("MINIO_ACCESS_KEY", " changeme", id="spaced, unhyphenated"),
    ],
)
def test_a_placeholder_secret_refuses_to_load(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=r"placeholder from \.env\.example"):
        Settings.load()


def test_a_real_secret_that_mentions_change_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PASSWORD", "we-will-never-change-me")
    assert Settings.load().db.password.get_secret_value() == "we-will-never-change-me"


@pytest.mark.parametrize(
    ("value", "expected"),
    [pytest.param(None, False, id="off by default"), pytest.param("true", True, id="set")],
)
def test_ingest_known_cameras_only(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool
) -> None:
    monkeypatch.delenv("INGEST_KNOWN_CAMERAS_ONLY", raising=False)
    if value is not None:
        monkeypatch.setenv("INGEST_KNOWN_CAMERAS_ONLY", value)
    assert Settings.load().ingest.known_cameras_only is expected


@pytest.mark.parametrize(
    ("port", "workers", "loads"),
    [
        pytest.param("0", "4", True, id="metrics on the API port, many workers"),
        pytest.param("8003", "1", True, id="metrics port, one worker"),
        pytest.param("8003", "2", False, id="metrics port, many workers"),
    ],
)
def test_a_metrics_port_needs_a_single_worker(
    monkeypatch: pytest.MonkeyPatch, port: str, workers: str, loads: bool
) -> None:
    monkeypatch.setenv("API_METRICS_PORT", port)
    monkeypatch.setenv("API_WORKERS", workers)
    if loads:
        assert Settings.load().api.metrics_port == int(port)
    else:
        with pytest.raises(ValidationError, match="API_METRICS_PORT needs API_WORKERS=1"):
            Settings.load()
