#!/usr/bin/env bash
# Local single-node Apache Kafka 4.x broker in KRaft mode (combined broker + controller), no Docker.
#
#   bash infra/kafka.sh start    # idempotent; first run resolves the jars with mvn (cached)
#   bash infra/kafka.sh stop     # SIGTERM (controlled shutdown), SIGKILL after 20 s
#   bash infra/kafka.sh status   # prints running/stopped; exit 0 when running, 1 otherwise
#
# Clients: bootstrap.servers=127.0.0.1:$ALPR_KAFKA_PORT (19092). The controller listens on
# 127.0.0.1:$ALPR_KAFKA_CONTROLLER_PORT (19093) and is not advertised.
# Jars:  $ALPR_CACHE_DIR/kafka/lib (from infra/kafka/pom.xml; re-resolved when the pom changes).
# State: $ALPR_SERVICES_DIR/kafka/{data/,server.properties,server.log,stdout.log,pid}.
# Secured listener, for a private broker (tests/integration/test_kafka_security.py); the shared
# broker sets none of these and renders exactly the template:
#   ALPR_KAFKA_SASL_SSL_PORT     adds SECURED://127.0.0.1:<port>, SASL_SSL with SCRAM-SHA-512
#   ALPR_KAFKA_EXTRA_PROPERTIES  a file appended to server.properties, whose keys win (the TLS
#                                keystore, the authorizer, super.users)
#   ALPR_KAFKA_SCRAM_USERS       a file of `SCRAM-SHA-512=[name=...,password=...]` lines, one per
#                                user, created when the storage is formatted (first start only)
# The PLAINTEXT listener stays: the readiness probe and the controller use it.
# Needs: java 17+ (/usr/bin/java), mvn (first start only). Readiness is probed with confluent-kafka
# (repo .venv or python3) when importable, else with kafka.admin.ConfigCommand on the JVM.

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly NAME=kafka
readonly CONF_DIR="$INFRA_DIR/kafka"
readonly POM="$CONF_DIR/pom.xml"
readonly JAVA_BIN="${ALPR_KAFKA_JAVA:-/usr/bin/java}"
readonly HEAP="${ALPR_KAFKA_HEAP:-512m}"
readonly START_TIMEOUT_S="${ALPR_KAFKA_START_TIMEOUT:-90}"
readonly LIB_DIR="$ALPR_CACHE_DIR/kafka/lib"
readonly LIB_STAMP="$ALPR_CACHE_DIR/kafka/lib.pom.sha256"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_of() { cat "$ALPR_SERVICES_DIR/$NAME/pid" 2>/dev/null || true; }

# Resolve the runtime jars once per pom content into $LIB_DIR (atomically: tmp dir, then rename).
resolve_jars() {
  local want have=""
  want="$(sha256sum "$POM" | cut -d' ' -f1)"
  [[ -f "$LIB_STAMP" ]] && have="$(cat "$LIB_STAMP")"
  if [[ "$have" == "$want" ]] && compgen -G "$LIB_DIR/kafka_2.13-*.jar" >/dev/null; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (apt-get install -y maven)"
  log "resolving Kafka jars from Maven Central into $LIB_DIR (once per pom.xml) ..."
  local tmp="$LIB_DIR.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  local out
  if ! out="$(mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1)"; then
    printf '%s\n' "$out" >&2
    rm -rf "$tmp"
    die "mvn dependency:copy-dependencies failed for $POM"
  fi
  compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || { rm -rf "$tmp"; die "no kafka_2.13 jar resolved"; }
  rm -rf "$LIB_DIR" "$LIB_STAMP"
  mv "$tmp" "$LIB_DIR"
  printf '%s\n' "$want" > "$LIB_STAMP"
  log "resolved $(find "$LIB_DIR" -name '*.jar' | wc -l) jars"
}

render_config() {
  local dir=$1 text
  text="$(<"$CONF_DIR/server.properties.template")"
  text="${text//@CONTROLLER_PORT@/$ALPR_KAFKA_CONTROLLER_PORT}"
  text="${text//@PORT@/$ALPR_KAFKA_PORT}"
  text="${text//@DATA_DIR@/$dir/data}"
  printf '%s\n' "$text" > "$dir/server.properties"
  [[ -z "${ALPR_KAFKA_SASL_SSL_PORT:-}" ]] || secured_listener >> "$dir/server.properties"
  if [[ -n "${ALPR_KAFKA_EXTRA_PROPERTIES:-}" ]]; then
    printf '\n# From %s\n' "$ALPR_KAFKA_EXTRA_PROPERTIES" >> "$dir/server.properties"
    cat "$ALPR_KAFKA_EXTRA_PROPERTIES" >> "$dir/server.properties"
  fi
}

# Properties that add the SASL_SSL listener; later keys replace the template's.
secured_listener() {
  local plain="PLAINTEXT://127.0.0.1:$ALPR_KAFKA_PORT"
  local secured="SECURED://127.0.0.1:$ALPR_KAFKA_SASL_SSL_PORT"
  cat <<EOF

############################# Secured listener (ALPR_KAFKA_SASL_SSL_PORT) #############################
listeners=$plain,$secured,CONTROLLER://127.0.0.1:$ALPR_KAFKA_CONTROLLER_PORT
advertised.listeners=$plain,$secured
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SECURED:SASL_SSL,CONTROLLER:PLAINTEXT
listener.name.secured.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.secured.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
}

# `--add-scram LINE` for each line of ALPR_KAFKA_SCRAM_USERS, NUL-separated.
scram_arguments() {
  local line
  [[ -n "${ALPR_KAFKA_SCRAM_USERS:-}" ]] || return 0
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ -z "$line" ]] || printf -- '--add-scram\0%s\0' "$line"
  done < "$ALPR_KAFKA_SCRAM_USERS"
}

java_tool() {
  "$JAVA_BIN" -Xmx256m -Dlog4j2.configurationFile="$CONF_DIR/log4j2.properties" \
    -Dkafka.logs.dir="$(state_dir "$NAME")" -cp "$LIB_DIR/*" "$@"
}

# Format the KRaft storage once (single voter, dynamic quorum). meta.properties marks it done.
format_storage() {
  local dir=$1 cluster_id scram=()
  [[ -f "$dir/data/meta.properties" ]] && return 0
  mkdir -p "$dir/data"
  mapfile -d '' scram < <(scram_arguments)
  cluster_id="$(java_tool kafka.tools.StorageTool random-uuid)"
  log "formatting $dir/data (cluster id $cluster_id)"
  java_tool kafka.tools.StorageTool format --standalone -t "$cluster_id" \
    -c "$dir/server.properties" ${scram[@]+"${scram[@]}"} >>"$dir/stdout.log" 2>&1 \
    || { tail -n 20 "$dir/stdout.log" >&2; die "kafka storage format failed"; }
}

# Prints a python interpreter that can import confluent_kafka, if any.
probe_python() {
  local py
  for py in "$REPO_DIR/.venv/bin/python" python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import confluent_kafka' 2>/dev/null; then
      printf '%s' "$py"
      return 0
    fi
  done
  return 1
}

# One readiness probe: a real request (metadata / DescribeConfigs) answered by broker 1.
probe_broker() {
  local bootstrap="127.0.0.1:$ALPR_KAFKA_PORT" py
  if py="$(probe_python)"; then
    timeout 15 "$py" - "$bootstrap" <<'EOF' >/dev/null 2>&1
import sys
from confluent_kafka.admin import AdminClient
admin = AdminClient({"bootstrap.servers": sys.argv[1], "socket.timeout.ms": 3000})
md = admin.list_topics(timeout=5)
sys.exit(0 if 1 in md.brokers else 1)
EOF
  else
    timeout 20 "$JAVA_BIN" -Xmx128m -cp "$LIB_DIR/*" kafka.admin.ConfigCommand \
      --bootstrap-server "$bootstrap" --entity-type brokers --entity-name 1 --describe \
      >/dev/null 2>&1
  fi
}

show_logs() {
  local dir; dir="$(state_dir "$NAME")"
  log "--- tail of $dir/server.log ---"
  tail -n 60 "$dir/server.log" >&2 2>/dev/null || true
  log "--- tail of $dir/stdout.log ---"
  tail -n 20 "$dir/stdout.log" >&2 2>/dev/null || true
}

# Waits until the process answers on the client port. Returns 1 (after printing why) otherwise.
wait_ready() {
  local pid=$1 deadline=$((SECONDS + START_TIMEOUT_S))
  until wait_for_port "$ALPR_KAFKA_PORT" 1; do
    kill -0 "$pid" 2>/dev/null || { log "kafka exited during startup"; return 1; }
    ((SECONDS < deadline)) || { log "port $ALPR_KAFKA_PORT not open after ${START_TIMEOUT_S}s"; return 1; }
  done
  until probe_broker; do
    kill -0 "$pid" 2>/dev/null || { log "kafka exited during startup"; return 1; }
    ((SECONDS < deadline)) || { log "broker not answering after ${START_TIMEOUT_S}s"; return 1; }
    sleep 1
  done
}

cmd_start() {
  if is_running "$NAME"; then
    wait_ready "$(pid_of)" || { show_logs; die "kafka (pid $(pid_of)) is running but not answering"; }
    log "kafka already running (pid $(pid_of)) on 127.0.0.1:$ALPR_KAFKA_PORT"
    return 0
  fi
  local dir port
  dir="$(state_dir "$NAME")"
  rm -f "$dir/pid"
  for port in "$ALPR_KAFKA_PORT" "$ALPR_KAFKA_CONTROLLER_PORT"; do
    port_open "$port" && die "127.0.0.1:$port is already in use by another process"
  done
  [[ -x "$JAVA_BIN" ]] || die "java not found at $JAVA_BIN (apt-get install -y openjdk-17-jre-headless)"

  resolve_jars
  render_config "$dir"
  format_storage "$dir"

  log "starting kafka on 127.0.0.1:$ALPR_KAFKA_PORT (controller $ALPR_KAFKA_CONTROLLER_PORT)"
  start_background "$NAME" "$dir/stdout.log" \
    "$JAVA_BIN" "-Xms128m" "-Xmx$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true -Dlog4j2.shutdownHookEnabled=false \
    -Dlog4j2.configurationFile="$CONF_DIR/log4j2.properties" -Dkafka.logs.dir="$dir" \
    -cp "$LIB_DIR/*" kafka.Kafka "$dir/server.properties"

  if ! wait_ready "$(pid_of)"; then
    show_logs
    stop_pid "$NAME" || true
    die "kafka failed to start"
  fi
  log "kafka ready (pid $(pid_of)): bootstrap.servers=127.0.0.1:$ALPR_KAFKA_PORT; logs in $dir/server.log"
}

cmd_stop() {
  if is_running "$NAME"; then
    log "stopping kafka (pid $(pid_of))"
  else
    log "kafka not running"
  fi
  stop_pid "$NAME"
}

cmd_status() {
  if is_running "$NAME"; then
    echo "kafka: running (pid $(pid_of), 127.0.0.1:$ALPR_KAFKA_PORT)"
  else
    echo "kafka: stopped"
    return 1
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 {start|stop|status}" >&2; exit 2 ;;
esac
