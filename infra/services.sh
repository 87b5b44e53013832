#!/usr/bin/env bash
# Install (cached) and start, or stop, the real servers the project needs for development, tests
# and benchmarks: PostgreSQL 15, an Apache Kafka 4 broker (KRaft), MinIO, and a schema registry;
# PGlite with TimescaleDB (tests of the hypertable path only); and the tools the monitoring checks
# need (Prometheus and promtool), the front-door checks need (Caddy, built like MinIO, and
# Kafka's command-line tools) and the MQTT delivery tests need (Mosquitto).
# All listen on 127.0.0.1 only. Safe to run again: running servers are left alone.
#
# Usage: infra/services.sh up|down|status|env
#   env prints the environment variables (KAFKA_BOOTSTRAP_SERVERS, DB_HOST, ...) that point the
#   services and tests at these servers; `up` also writes them to $ALPR_SERVICES_DIR/env.
source "$(dirname "$0")/lib.sh"

SERVICES=(postgres kafka minio registry timescale)
TOOLS=(prometheus caddy kafka-tools mosquitto chromium)  # installed only; the tests start their own process

up() {
  for tool in "${TOOLS[@]}"; do bash "$INFRA_DIR/$tool.sh" install; done
  for service in "${SERVICES[@]}"; do bash "$INFRA_DIR/$service.sh" start; done
  env_file > "$ALPR_SERVICES_DIR/env.tmp"
  chmod 600 "$ALPR_SERVICES_DIR/env.tmp"
  mv "$ALPR_SERVICES_DIR/env.tmp" "$ALPR_SERVICES_DIR/env"
  log "all services up; environment in $ALPR_SERVICES_DIR/env"
}

down() {
  local index
  for ((index = ${#SERVICES[@]} - 1; index >= 0; index--)); do
    bash "$INFRA_DIR/${SERVICES[index]}.sh" stop || true
  done
}

status() {
  local failed=0 service
  for service in "${SERVICES[@]}"; do bash "$INFRA_DIR/$service.sh" status || failed=1; done
  return "$failed"
}

env_file() {
  # shellcheck disable=SC1091
  source "$ALPR_SERVICES_DIR/minio/credentials.env"
  cat <<ENV
KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$ALPR_KAFKA_PORT
SCHEMA_REGISTRY_URL=$(bash "$INFRA_DIR/registry.sh" url)
DB_HOST=127.0.0.1
DB_PORT=$ALPR_PG_PORT
DB_NAME=alpr_db
DB_USER=alpr
MINIO_ENDPOINT=127.0.0.1:$ALPR_S3_PORT
MINIO_ACCESS_KEY=$MINIO_ROOT_USER
MINIO_SECRET_KEY=$MINIO_ROOT_PASSWORD
ALPR_PG_ADMIN_USER=postgres
TIMESCALE_PORT=$ALPR_TIMESCALE_PORT
ENV
}

env() { env_file; }

"${1:?usage: $0 up|down|status|env}"
