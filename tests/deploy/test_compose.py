"""docker-compose.yml: valid against the Compose Specification, and agreeing with the code.

No Docker engine runs here, so these tests read the file as `docker compose` would (YAML, anchors,
${VAR} interpolation from a .env made from .env.example) and check what can break: the schema,
the names and ports of the OVR-ALPR Core Services design, health checks and start order, the
settings the code reads, and the Prometheus targets.
"""

from __future__ import annotations

import json
import re
import subprocess
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from alpr_core.config import PLACEHOLDER_PREFIXES, Settings
from tests.deploy.compose import (
    COMPOSE_FILE,
    DEV_OVERRIDE_FILE,
    ENV_EXAMPLE,
    REPO,
    MissingVariableError,
    commented_names,
    load_compose,
    merge_compose,
    read_env_file,
    variables_used,
)

DESIGN_SERVICES = {
    "kafka",
    "schema-registry",
    "timescaledb",
    "minio",
    "kafka-consumer",
    "query-api",
    "prometheus",
    "grafana",
    "loki",
    "promtail",
    "cadvisor",
}
FRONT_DOOR = {"proxy"}
ONE_SHOT = {"migrate", "kafka-init", "minio-init"}
SCALABLE = {"kafka-consumer", "query-api"}
APP_SERVICES = ("migrate", "kafka-consumer", "query-api")
SECRETS = (
    "DB_PASSWORD",
    "DB_STORAGE_PASSWORD",
    "DB_API_PASSWORD",
    "MINIO_ACCESS_KEY",
    "MINIO_SECRET_KEY",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
    "KAFKA_EDGE_PASSWORD",
    "KAFKA_STORAGE_PASSWORD",
    "KAFKA_TLS_KEYSTORE_PASSWORD",
    "PROXY_REGISTRY_PASSWORD_HASH",
)
# Every published port: service -> {host port: container port}. The proxy is the one HTTP(S) front
# door; Kafka's edge listener (SASL_SSL) is the one other way in.
PUBLISHED = {"proxy": {80: 80, 443: 443}, "kafka": {9092: 9092}}
# What docker-compose.dev.yml adds on 127.0.0.1, from the design's access URLs.
DEV_PORTS = {
    "query-api": {8000: 8000},
    "prometheus": {9090: 9090},
    "loki": {3100: 3100},
    "cadvisor": {8082: 8080},
    "minio": {9000: 9000, 9001: 9001},
    "timescaledb": {5432: 5432},
    "schema-registry": {8081: 8081},
}


@pytest.fixture
def code_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """The code's own defaults: no setting in the environment, no .env file in the way."""
    for name in Settings.load().as_environment():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return Settings.load()


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    """What an operator's .env holds after `cp .env.example .env` (placeholders included)."""
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def compose(env: dict[str, str]) -> dict[str, Any]:
    return load_compose(env)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def published_ports(service: dict[str, Any]) -> dict[int, int]:
    """Host port -> container port, from the short syntax ``"HOST:CONTAINER"``."""
    ports = {}
    for entry in service.get("ports", []):
        host, container = str(entry).rsplit(":", 1)
        ports[int(host.rsplit(":", 1)[-1])] = int(container)
    return ports


def test_the_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads((REPO / "tests/deploy/data/compose-spec.json").read_text())
    jsonschema.Draft7Validator(schema).validate(compose)


def test_the_schema_check_can_fail(compose: dict[str, Any]) -> None:
    schema = json.loads((REPO / "tests/deploy/data/compose-spec.json").read_text())
    broken = {**compose, "services": {"query-api": {"image": "x", "depends_on": 3}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)


def test_services_are_the_designs_without_zookeeper(services: dict[str, Any]) -> None:
    default = {name for name, s in services.items() if "profiles" not in s}
    assert default == DESIGN_SERVICES | FRONT_DOOR | ONE_SHOT
    assert "zookeeper" not in services


def test_images_are_pinned(services: dict[str, Any]) -> None:
    for name, service in services.items():
        image = service["image"]
        tag = image.rsplit(":", 1)[-1] if ":" in image.split("/")[-1] else ""
        assert re.search(r"\d", tag), f"{name}: {image} has no version tag"
        assert "latest" not in tag, f"{name}: {image}"


def test_long_running_services_have_health_checks_and_restart(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
            continue
        if "build" in service:  # our image: its HEALTHCHECK is checked in test_image.py
            assert "ALPR_HEALTH_URL" in service["environment"], name
        else:
            assert service["healthcheck"]["test"], name
        assert service["restart"] == "unless-stopped", name


def test_dependencies_wait_for_health_or_completion(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            wanted = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert rule["condition"] == wanted, f"{name} -> {dependency}"


def test_migrations_run_before_both_services(services: dict[str, Any]) -> None:
    assert services["migrate"]["command"] == ["migrate"]
    for name in ("kafka-consumer", "query-api"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert services[name]["image"] == services["migrate"]["image"]


def test_container_names_are_the_designs_except_on_scaled_services(
    services: dict[str, Any],
) -> None:
    for name, service in services.items():
        if name in SCALABLE:
            assert "container_name" not in service, f"{name} could not be scaled"
            assert "ports" not in service, f"{name}: a fixed host port clashes when scaled"
        else:
            assert service["container_name"] == f"alpr-{name}"


def test_only_the_proxy_and_kafkas_edge_listener_are_published(services: dict[str, Any]) -> None:
    published = {name: published_ports(s) for name, s in services.items() if published_ports(s)}
    assert published == PUBLISHED


def test_kafka_publishes_only_its_sasl_ssl_edge_listener(services: dict[str, Any]) -> None:
    kafka = services["kafka"]["environment"]
    protocols = dict(
        pair.split(":") for pair in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    listeners = dict(
        entry.split("://") for entry in kafka["KAFKA_LISTENERS"].split(",")
    )  # name -> ":port"
    assert protocols["EDGE"] == "SASL_SSL"
    assert listeners["EDGE"] == f":{next(iter(PUBLISHED['kafka']))}"
    assert kafka["KAFKA_LISTENER_NAME_EDGE_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert kafka["KAFKA_AUTHORIZER_CLASS_NAME"].endswith(".StandardAuthorizer")
    assert kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert kafka["KAFKA_SUPER_USERS"] == "User:ANONYMOUS"  # INTERNAL, never published
    assert protocols["INTERNAL"] == "PLAINTEXT"


def test_kafka_init_creates_the_scram_users_and_their_acls(services: dict[str, Any]) -> None:
    script = services["kafka-init"]["command"][0]
    for user in ("edge", "storage"):
        assert f"--entity-name {user}" in script
        assert f"--allow-principal User:{user}" in script
    assert "SCRAM-SHA-512=[password=" in script
    edge_acl = script.split("User:edge")[1].split("kafka-acls.sh")[0]
    assert "--operation Write" in edge_acl
    assert "Read" not in edge_acl
    assert "--consumer" not in edge_acl


def test_prometheus_cannot_be_reloaded_or_stopped_over_http(services: dict[str, Any]) -> None:
    assert not any("lifecycle" in flag for flag in services["prometheus"]["command"])


def test_the_api_trusts_forwarded_addresses_from_the_proxy_alone(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    proxy_address = services["proxy"]["networks"]["front"]["ipv4_address"]
    trusted = json.loads(services["query-api"]["environment"]["API_TRUSTED_PROXIES"])
    assert trusted == [f"{proxy_address}/32"]
    subnet = compose["networks"]["front"]["ipam"]["config"][0]["subnet"]
    assert ip_address(proxy_address) in ip_network(subnet)
    assert list(services["proxy"]["networks"]) == ["front"]  # one address, the trusted one
    for name in ("query-api", "grafana", "schema-registry", "minio"):
        assert "front" in services[name]["networks"], name


def test_the_proxy_image_is_the_version_the_tests_build() -> None:
    script = (REPO / "infra/caddy.sh").read_text()
    version = re.search(r"^CADDY_VERSION=v(\S+)", script, flags=re.MULTILINE)
    assert version
    assert load_compose(read_env_file(ENV_EXAMPLE))["services"]["proxy"]["image"] == (
        f"caddy:{version[1]}"
    )


def test_the_dev_override_merges_and_publishes_on_loopback_only(
    env: dict[str, str], compose: dict[str, Any]
) -> None:
    override = load_compose(env, DEV_OVERRIDE_FILE)
    assert set(override) == {"services"}
    assert set(override["services"]) <= set(compose["services"])
    merged = merge_compose(compose, override)
    schema = json.loads((REPO / "tests/deploy/data/compose-spec.json").read_text())
    jsonschema.Draft7Validator(schema).validate(merged)
    for name, service in override["services"].items():
        for entry in service["ports"]:
            assert str(entry).startswith("127.0.0.1:"), f"{name}: {entry}"
    added = {name: published_ports(s) for name, s in override["services"].items()}
    assert added == DEV_PORTS
    every = [p for s in merged["services"].values() for p in published_ports(s)]
    assert len(every) == len(set(every)), "two services publish the same host port"


def test_state_lives_in_declared_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used = set()
    for service in compose["services"].values():
        for mount in service.get("volumes", []):
            source = str(mount).split(":", 1)[0]
            if not source.startswith(("/", ".")):
                assert source in declared, f"undeclared volume {source}"
                used.add(source)
    assert used == declared
    for name in ("kafka", "timescaledb", "minio", "prometheus", "grafana", "loki"):
        assert f"{name}-data" in used


def test_every_variable_the_code_reads_is_set_for_both_services(services: dict[str, Any]) -> None:
    read_by_code = set(Settings.load().as_environment())
    for name in APP_SERVICES:
        missing = read_by_code - set(services[name]["environment"])
        assert not missing, f"{name} lacks {sorted(missing)}"


# Unset in the code (an embedded stand-in takes the server's place); compose names its servers.
SERVER_ADDRESSES = {
    "KAFKA_BOOTSTRAP_SERVERS",
    "SCHEMA_REGISTRY_URL",
    "DB_HOST",
    "MINIO_ENDPOINT",
    "ALPR_DATA_DIR",
}
# Each service connects as its own database login (docs/decisions.md#database-roles).
SERVICE_LOGINS = {"DB_USER", "DB_PASSWORD"}


def test_defaults_agree_with_the_code(
    code_defaults: Settings, services: dict[str, Any], env: dict[str, str]
) -> None:
    """Unless .env overrides them, the services run with the code's own defaults (ports 8002 and
    8000 included); only the server addresses, which the code leaves unset, are compose's own."""
    code = code_defaults.as_environment()
    compose_env = services["kafka-consumer"]["environment"]
    differs = {
        name: (compose_env[name], value)
        for name, value in code.items()
        if name not in env | dict.fromkeys(SERVER_ADDRESSES | SERVICE_LOGINS)
        and str(compose_env[name]) != value
    }
    assert not differs


def test_addresses_name_real_services_and_ports(
    code_defaults: Settings, services: dict[str, Any]
) -> None:
    app = services["kafka-consumer"]["environment"]
    assert app["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:29092"
    assert (
        "INTERNAL://kafka:29092" in services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    )
    registry = services["schema-registry"]["environment"]["SCHEMA_REGISTRY_LISTENERS"]
    assert app["SCHEMA_REGISTRY_URL"] == f"http://schema-registry:{registry.rsplit(':', 1)[1]}"
    assert app["DB_HOST"] in services
    assert str(app["DB_PORT"]) == "5432"
    assert app["MINIO_ENDPOINT"] == "minio:9000"
    assert str(code_defaults.api.port) in services["query-api"]["expose"]
    assert str(code_defaults.storage.metrics_port) in services["kafka-consumer"]["expose"]


def test_secrets_come_from_env_and_compose_refuses_without_them() -> None:
    text = COMPOSE_FILE.read_text()
    for secret in SECRETS:
        assert re.search(rf"\$\{{{secret}:\?[^}}]+\}}", text), f"{secret} is not required"
    with pytest.raises(MissingVariableError, match="DB_PASSWORD"):
        load_compose({})


def test_every_required_variable_is_set_in_env_example() -> None:
    text = COMPOSE_FILE.read_text()
    required = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):?\?[^}]*\}", text))
    assert set(SECRETS) <= required
    assert required <= set(read_env_file(ENV_EXAMPLE)), "a required variable is only commented"


def test_env_example_holds_only_placeholders_and_documents_every_variable() -> None:
    example = read_env_file(ENV_EXAMPLE)
    for secret in SECRETS:
        assert example[secret].startswith(PLACEHOLDER_PREFIXES), secret
    documented = set(example) | commented_names(ENV_EXAMPLE)
    undocumented = variables_used(COMPOSE_FILE.read_text()) - documented
    assert not undocumented


def test_the_real_env_file_is_never_committed() -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO, check=False)
    assert ignored.returncode == 0
    tracked = subprocess.run(
        ["git", "ls-files", ".env"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert tracked.stdout == ""


def test_the_app_services_refuse_the_placeholder_passwords(
    monkeypatch: pytest.MonkeyPatch, services: dict[str, Any], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in services["query-api"]["environment"].items():
        monkeypatch.setenv(name, str(value))
    with pytest.raises(ValueError, match="placeholder"):
        Settings.load()


def test_topics_have_partitions_for_scaled_consumers(services: dict[str, Any]) -> None:
    partitions = int(services["kafka-init"]["environment"]["PARTITIONS"])
    assert partitions >= 3  # the design's --scale kafka-consumer=3
    assert "--partitions" in services["kafka-init"]["command"][0]


def test_kafka_runs_in_kraft_mode(services: dict[str, Any]) -> None:
    kafka = services["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert not any("ZOOKEEPER" in name for name in kafka)


def test_prometheus_keeps_30_days_and_mounts_its_rules(services: dict[str, Any]) -> None:
    prometheus = services["prometheus"]
    assert "--storage.tsdb.retention.time=30d" in prometheus["command"]
    assert "./monitoring/prometheus:/etc/prometheus:ro" in prometheus["volumes"]


def test_prometheus_targets_are_the_compose_services_and_ports(
    code_defaults: Settings, services: dict[str, Any]
) -> None:
    config = yaml.safe_load((REPO / "monitoring/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    consumer = jobs["kafka-consumer"]["dns_sd_configs"][0]
    assert consumer["names"] == ["kafka-consumer"]
    assert consumer["port"] == code_defaults.storage.metrics_port
    api = jobs["query-api"]["dns_sd_configs"][0]
    assert api["names"] == ["query-api"]
    metrics_port = int(services["query-api"]["environment"]["API_METRICS_PORT"])
    assert api["port"] == metrics_port != code_defaults.api.port
    assert str(metrics_port) in services["query-api"]["expose"]
    assert jobs["cadvisor"]["static_configs"][0]["targets"] == [
        f"cadvisor:{DEV_PORTS['cadvisor'][8082]}"
    ]
    assert jobs["prometheus"]["static_configs"][0]["targets"] == ["localhost:9090"]
    assert "file_sd_configs" in jobs["pilot"]


# The design's "Running Core Services" commands, verbatim but for the zookeeper service.
DESIGN_COMMANDS = (
    "docker compose up -d kafka schema-registry timescaledb minio",
    "docker compose up -d kafka-consumer query-api",
    "docker compose up -d prometheus grafana loki promtail cadvisor",
    "docker compose up -d kafka-consumer",
    "docker compose up -d query-api",
    "docker compose logs -f",
    "docker compose logs -f kafka-consumer",
    "docker compose logs -f query-api",
    "docker compose logs --tail=100 kafka-consumer",
    "docker compose down",
    "docker compose stop kafka-consumer",
    "docker compose down -v",
)


@pytest.mark.parametrize("command", DESIGN_COMMANDS)
def test_the_designs_commands_name_services_that_exist(
    command: str, services: dict[str, Any]
) -> None:
    words = command.split()[3:]  # after "docker compose <verb>"
    named = [word for word in words if not word.startswith("-")]
    assert set(named) <= set(services), f"unknown services in {command!r}"
    for name in named:  # a service behind a profile would not start with a plain `up`
        assert "profiles" not in services[name], f"{name} is behind a profile"


def test_each_service_connects_to_the_database_as_its_own_login(services: dict[str, Any]) -> None:
    """Only migrate holds the owner's password; it makes the services' logins."""
    logins = {name: services[name]["environment"] for name in APP_SERVICES}
    assert logins["kafka-consumer"]["DB_USER"] == logins["migrate"]["DB_WRITER_USER"]
    assert logins["query-api"]["DB_USER"] == logins["migrate"]["DB_READER_USER"]
    owner_password = logins["migrate"]["DB_PASSWORD"]
    assert logins["kafka-consumer"]["DB_PASSWORD"] == logins["migrate"]["DB_WRITER_PASSWORD"]
    assert logins["query-api"]["DB_PASSWORD"] == logins["migrate"]["DB_READER_PASSWORD"]
    assert owner_password not in {
        logins["kafka-consumer"]["DB_PASSWORD"],
        logins["query-api"]["DB_PASSWORD"],
    }
