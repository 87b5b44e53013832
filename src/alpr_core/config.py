"""Settings, read once at each entry point and passed down.

Each group reads its own environment variables. The names are those of the OVR-ALPR Core Services
design where it named them (``KAFKA_BOOTSTRAP_SERVERS``, ``KAFKA_TOPIC``, ``SCHEMA_REGISTRY_URL``,
``DB_HOST``, ``DB_PORT``, ``MINIO_ENDPOINT``, ...). There are no default passwords: secrets are
``SecretStr`` and empty unless set, and a placeholder left from ``.env.example``
(``change-me...``) is refused.

A server left unset is replaced by its embedded stand-in, so one machine with only Python runs
the whole system: no ``DB_HOST``, an embedded PostgreSQL; no ``MINIO_ENDPOINT``, a directory;
no ``KAFKA_BOOTSTRAP_SERVERS``, no consumer (events arrive over HTTP). Their data lives under
``ALPR_DATA_DIR``. Setting a server's variables switches that part alone to the real server.
"""

from __future__ import annotations

import json
from ipaddress import ip_network
from pathlib import Path
from typing import Literal, Self

from psycopg.conninfo import make_conninfo
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_PREFIXES = ("change-me", "changeme", "change_me")


def _group(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, env_file=".env", extra="ignore")


def _secret_group(prefix: str) -> SettingsConfigDict:
    """A group holding a secret: a validation error names the field but never shows the input."""
    return _group(prefix) | SettingsConfigDict(hide_input_in_errors=True)


def refuse_placeholder(secret: SecretStr) -> SecretStr:
    """A secret still set to ``.env.example``'s placeholder stops the service at startup."""
    if secret.get_secret_value().strip().lower().startswith(PLACEHOLDER_PREFIXES):
        raise ValueError("is still the placeholder from .env.example: set a real secret")
    return secret


KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
KafkaSaslMechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"]


class KafkaSettings(BaseSettings):
    """The broker and how to reach it; kafka_clients.py turns this into client configs."""

    model_config = _secret_group("KAFKA_")

    bootstrap_servers: str = ""  # unset: no Kafka; events arrive through POST /events
    topic: str = "alpr.plates.detected"
    dlq_topic: str = "alpr.plates.detected.dlq"
    group_id: str = "alpr-storage"
    session_timeout_ms: int = Field(default=10_000, ge=6_000)  # the broker's minimum is 6 s
    # docs/decisions.md#kafka-security: SASL_SSL with SCRAM-SHA-512 outside one host
    security_protocol: KafkaSecurityProtocol = "PLAINTEXT"
    sasl_mechanism: KafkaSaslMechanism = "SCRAM-SHA-512"
    sasl_username: str = ""
    sasl_password: SecretStr = SecretStr("")
    ssl_ca_location: str = ""  # PEM file of the CA that signed the broker; unset: the system's
    ssl_endpoint_identification: bool = True  # the broker's certificate must name its host

    _no_placeholder = field_validator("sasl_password")(refuse_placeholder)

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> Self:
        if self.uses_sasl and not (self.sasl_username and self.sasl_password.get_secret_value()):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs KAFKA_SASL_USERNAME"
                " and KAFKA_SASL_PASSWORD"
            )
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.bootstrap_servers)

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")


class SchemaRegistrySettings(BaseSettings):
    model_config = _secret_group("SCHEMA_REGISTRY_")

    url: str = ""  # needed with Kafka, and for Avro posted to /events
    username: str = ""  # basic auth, with password; unset: none
    password: SecretStr = SecretStr("")
    ssl_ca_location: str = ""  # PEM file of the CA behind an https url; unset: the system's

    _no_placeholder = field_validator("password")(refuse_placeholder)

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> Self:
        if bool(self.username) != bool(self.password.get_secret_value()):
            raise ValueError(
                "set both SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD, or neither"
            )
        return self


class DatabaseSettings(BaseSettings):
    model_config = _group("DB_")

    host: str = ""  # unset: the embedded PostgreSQL under ALPR_DATA_DIR
    port: int = 5432
    name: str = "alpr_db"
    user: str = "alpr"
    password: SecretStr = SecretStr("")
    connect_timeout_s: int = 5

    _no_placeholder = field_validator("password")(refuse_placeholder)

    def conninfo(self) -> str:
        """A libpq connection string; the password is passed only when one is set."""
        password = self.password.get_secret_value()
        return make_conninfo(
            host=self.host,
            port=self.port,
            dbname=self.name,
            user=self.user,
            connect_timeout=self.connect_timeout_s,
            application_name="alpr-core",
            **({"password": password} if password else {}),
        )


class ServiceLoginSettings(BaseSettings):
    """The services' database logins, read by ``alpr migrate`` alone, which makes or updates each
    whose password is set (docs/decisions.md#database-roles). Each service then connects as its
    own with ``DB_USER`` and ``DB_PASSWORD``."""

    model_config = _secret_group("DB_")

    writer_user: str = "alpr_storage"
    writer_password: SecretStr = SecretStr("")
    reader_user: str = "alpr_api"
    reader_password: SecretStr = SecretStr("")

    _no_placeholder = field_validator("writer_password", "reader_password")(refuse_placeholder)


class ObjectStoreSettings(BaseSettings):
    model_config = _group("MINIO_")

    endpoint: str = ""  # unset: images in a directory under ALPR_DATA_DIR
    access_key: SecretStr = SecretStr("")
    secret_key: SecretStr = SecretStr("")
    bucket: str = "alpr-plate-images"
    secure: bool = False
    region: str = "us-east-1"
    # Where edges that upload their own crops put them; a read may name only objects under its
    # own camera's (or site's) prefix as its plate_url (images/ownership.py).
    edge_prefixes: list[str] = Field(default_factory=lambda: ["edge/{camera_id}/"])

    _no_placeholder = field_validator("access_key", "secret_key")(refuse_placeholder)

    @field_validator("edge_prefixes")
    @classmethod
    def _edge_prefix_templates(cls, prefixes: list[str]) -> list[str]:
        for prefix in prefixes:
            try:
                formatted = prefix.format(camera_id="c", site="s")
            except (KeyError, IndexError, ValueError) as error:
                allowed = "only {camera_id} and {site} may be used"
                raise ValueError(f"{prefix!r}: {allowed}") from error
            if not formatted.endswith("/") or formatted.startswith("/") or ".." in prefix:
                raise ValueError(f"{prefix!r}: a prefix is a folder such as 'edge/{{camera_id}}/'")
        return prefixes

    def endpoint_url(self) -> str:
        if "://" in self.endpoint:
            return self.endpoint
        scheme = "https" if self.secure else "http"
        return f"{scheme}://{self.endpoint}"


class StorageSettings(BaseSettings):
    """The storage service (Kafka consumer) itself."""

    model_config = _group("STORAGE_")

    batch_max_events: int = Field(default=5000, ge=1)
    batch_max_time_s: float = Field(default=0.5, gt=0)
    metrics_port: int = 8002
    metrics_host: str = "0.0.0.0"  # noqa: S104 - the container's metrics port is meant to be scraped
    image_upload_concurrency: int = Field(default=16, ge=1)
    max_image_bytes: int = Field(default=1_048_576, ge=1)
    max_image_pixels: int = Field(default=4_000_000, ge=1)  # width x height of a plate crop
    max_clock_skew_s: int = Field(default=86_400, ge=0)
    retry_initial_s: float = Field(default=0.5, gt=0)
    retry_max_s: float = Field(default=30.0, gt=0)
    shutdown_grace_s: float = Field(default=30.0, gt=0)


class IngestSettings(BaseSettings):
    """What both ingest paths (Kafka and POST /events) accept."""

    model_config = _group("INGEST_")

    # reads of cameras not in the registry, or disabled, are rejected as unknown_camera
    known_cameras_only: bool = False


class PassSettings(BaseSettings):
    """Vehicle passes, kept where reads are stored (docs/decisions.md#passes)."""

    model_config = _group("PASS_")

    tracking: bool = True  # keep passes as reads are stored
    # reads of one camera this close in time, with one track_id or plate, are one pass
    gap_s: float = Field(default=60.0, gt=0, le=3_600)


class StatsSettings(BaseSettings):
    """What the writers keep for ``GET /stats`` beyond its counts
    (docs/decisions.md#plate-sketches)."""

    model_config = _group("STATS_")

    plate_sketches: bool = True  # keep the unique-plate sketches, per day, camera and site


class AlertSettings(BaseSettings):
    """Watchlist matching, where reads are stored (docs/decisions.md#watchlist-matching)."""

    model_config = _group("ALERT_")

    matching: bool = True  # match stored reads against the watchlists
    # reads of one entry at one camera this close in time are one pass: one alert
    pass_window_s: float = Field(default=60.0, gt=0, le=86_400)
    refresh_s: float = Field(default=2.0, ge=0)  # how often the lists are checked for changes
    # delivery, by the storage service (docs/decisions.md#alert-delivery)
    deliver: bool = True
    dispatch_poll_s: float = Field(default=1.0, gt=0)  # retries are looked for this often
    webhook_timeout_s: float = Field(default=5.0, gt=0, le=60)
    webhook_concurrency: int = Field(default=8, ge=1, le=64)
    webhook_allow_http: bool = False  # plain-HTTP receivers (tests, a trusted network)
    # every alert, Avro, on this topic when Kafka is configured; empty: none
    kafka_topic: str = "alpr.alerts"


class MqttSettings(BaseSettings):
    """The MQTT broker alerts are published to (docs/decisions.md#alert-delivery)."""

    model_config = _secret_group("MQTT_")

    host: str = ""  # unset: no MQTT
    port: int = Field(default=1883, ge=1, le=65_535)
    username: str = ""  # with password; unset: an anonymous client
    password: SecretStr = SecretStr("")
    tls: bool = False
    ca_location: str = ""  # PEM file of the broker's CA with tls; unset: the system's
    client_id: str = "alpr-core"
    topic_prefix: str = Field(default="alpr", pattern=r"^[^#+\x00]+$")
    # Home Assistant's MQTT discovery prefix; empty: no discovery messages
    discovery_prefix: str = Field(default="homeassistant", pattern=r"^[^#+\x00]*$")

    _no_placeholder = field_validator("password")(refuse_placeholder)

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> Self:
        if bool(self.username) != bool(self.password.get_secret_value()):
            raise ValueError("set both MQTT_USERNAME and MQTT_PASSWORD, or neither")
        return self


class ApiSettings(BaseSettings):
    """The query API."""

    model_config = _group("API_")

    host: str = "0.0.0.0"  # noqa: S104 - the container's port is published on purpose
    port: int = 8000
    workers: int = Field(default=1, ge=1)  # uvicorn worker processes
    cors_origins: list[str] = Field(default_factory=list)  # none allowed unless listed
    metrics_public: bool = True  # /metrics without a key, for Prometheus
    # 0: /metrics on the API's port; else on this port alone, on API_HOST, and never through the
    # proxy (docs/decisions.md#metrics-port)
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # below the audit sealer's minute of settling (docs/decisions.md#audit-chain)
    statement_timeout_ms: int = Field(default=5000, ge=100, le=30_000)
    max_range_days: int = Field(default=366, ge=1)
    pool_max_size: int = Field(default=10, ge=1)
    pool_timeout_s: float = Field(default=5.0, gt=0)  # then 503: the database is unreachable
    # keys seen are remembered this long (0: not at all); a revocation clears them at once
    key_cache_ttl_s: float = Field(default=60.0, ge=0)
    image_redirect: bool = False  # 307 to a presigned URL instead of streaming the image
    image_url_ttl_s: int = Field(default=300, ge=1)
    # how long a browser may keep a crop (0: not at all, so a revoked key sees none)
    image_max_age_s: int = Field(default=0, ge=0)
    # proxies whose X-Forwarded-For is believed for the audited client address (IPs or CIDRs)
    trusted_proxies: list[str] = Field(default_factory=list)
    # failed key lookups: remembered this long, and allowed per client address at this rate
    failed_key_cache_s: float = Field(default=10.0, ge=0)
    failed_key_rate_per_s: float = Field(default=1.0, gt=0)
    failed_key_burst: int = Field(default=20, ge=1)
    ready_cache_s: float = Field(default=1.0, ge=0)  # /ready answers from memory this long
    require_purpose: bool = False  # plate searches must state a `purpose` (audited)
    limit_concurrency: int = Field(default=1000, ge=1)  # connections (idle ones too) at once
    timeout_keep_alive_s: int = Field(default=5, ge=1)
    console: bool = True  # the browser console at /console (docs/decisions.md#console)
    console_session_ttl_s: int = Field(default=8 * 3600, ge=60, le=7 * 86_400)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            ip_network(proxy, strict=False)  # a ValueError names the bad entry
        return proxies

    @model_validator(mode="after")
    def _one_metrics_port_per_process(self) -> Self:
        if self.metrics_port and self.workers > 1:
            raise ValueError(
                "API_METRICS_PORT needs API_WORKERS=1: each worker would bind the port; run"
                " more replicas instead"
            )
        return self

    # POST /events (HTTP ingest): caps per request, and a token bucket of events per key
    ingest_max_body_bytes: int = Field(default=8_388_608, ge=1024)
    ingest_max_events: int = Field(default=500, ge=1)
    ingest_rate_per_s: float = Field(default=10.0, gt=0)
    ingest_burst: int = Field(default=500, ge=1)

    alert_streams_max: int = Field(default=50, ge=1)  # GET /alerts/stream connections at once
    # a stream ends after this; the client reconnects (and its key is checked again)
    alert_stream_max_s: float = Field(default=300.0, gt=0, le=86_400)
    # POST /watchlists/{id}/entries.csv: caps on one imported file
    watchlist_import_max_bytes: int = Field(default=33_554_432, ge=1024)
    watchlist_import_max_entries: int = Field(default=200_000, ge=1)
    # rows one CSV or NDJSON export holds at most (docs/decisions.md#export)
    export_max_rows: int = Field(default=100_000, ge=1)


class RetentionSettings(BaseSettings):
    model_config = _group("RETENTION_")

    days: int = Field(default=90, ge=1)
    interval_s: float = Field(default=3600, ge=0)  # 0: the storage service does not run it


class AuditSettings(BaseSettings):
    """The audit log's retention, which ``alpr migrate`` hands to the database, and how often
    the API seals new rows into the hash chain (docs/decisions.md#audit-chain)."""

    model_config = _group("AUDIT_")

    retention_days: int = Field(default=365, ge=1)
    seal_interval_s: float = Field(default=10, ge=0)  # 0: this process neither seals nor expires


class LocalSettings(BaseSettings):
    """Where the embedded stand-ins keep their data."""

    model_config = _group("ALPR_")

    data_dir: Path = Path("alpr-data")

    def postgres_dir(self) -> Path:
        return self.data_dir.resolve() / "postgres"

    def images_dir(self, bucket: str) -> Path:
        return self.data_dir.resolve() / "images" / bucket


class LogSettings(BaseSettings):
    model_config = _group("LOG_")

    level: str = "INFO"
    plate_text: bool = False


def _as_text(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, list | dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


class Settings(BaseModel):
    """Every group, read from the environment (and ``.env``) when :meth:`load` is called."""

    kafka: KafkaSettings
    registry: SchemaRegistrySettings
    db: DatabaseSettings
    object_store: ObjectStoreSettings
    storage: StorageSettings
    api: ApiSettings
    retention: RetentionSettings
    local: LocalSettings
    log: LogSettings
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    alert: AlertSettings = Field(default_factory=AlertSettings)
    passes: PassSettings = Field(default_factory=PassSettings)
    stats: StatsSettings = Field(default_factory=StatsSettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)

    def as_environment(self) -> dict[str, str]:
        """These settings as the environment variables that :meth:`load` reads back."""
        env: dict[str, str] = {}
        for group_name in type(self).model_fields:
            group: BaseSettings = getattr(self, group_name)
            prefix = str(group.model_config.get("env_prefix", ""))
            for field, value in group.model_dump().items():
                env[f"{prefix}{field}".upper()] = _as_text(value)
        return env

    @classmethod
    def load(cls) -> Settings:
        return cls(
            kafka=KafkaSettings(),
            registry=SchemaRegistrySettings(),
            db=DatabaseSettings(),
            object_store=ObjectStoreSettings(),
            storage=StorageSettings(),
            api=ApiSettings(),
            retention=RetentionSettings(),
            local=LocalSettings(),
            log=LogSettings(),
            ingest=IngestSettings(),
            audit=AuditSettings(),
            alert=AlertSettings(),
            passes=PassSettings(),
            stats=StatsSettings(),
            mqtt=MqttSettings(),
        )
