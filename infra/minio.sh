#!/usr/bin/env bash
# Real MinIO S3 server on 127.0.0.1:$ALPR_S3_PORT, built from source with `go install` (cached).
#
#   infra/minio.sh build    build (or reuse) the pinned binary only
#   infra/minio.sh start    build if needed, start, wait until healthy (no-op if already running)
#   infra/minio.sh stop     stop the server (data is kept)
#   infra/minio.sh status   exit 0 if running and healthy, 1 otherwise
#
# Binary:      $ALPR_CACHE_DIR/minio/<version>/minio   (GOPATH/GOCACHE under $ALPR_CACHE_DIR/go)
# State:       $ALPR_SERVICES_DIR/minio/{data,minio.log,pid,credentials.env}; data elsewhere with
#              ALPR_MINIO_DATA_DIR (e.g. on tmpfs for benchmarks)
# Credentials: MINIO_ROOT_USER + MINIO_ROOT_PASSWORD from the environment if both are set,
#              else generated once into $ALPR_SERVICES_DIR/minio/credentials.env (mode 600).
#              Clients read that file; this script never prints the password.
#
# Version: the release tag RELEASE.2025-10-15T17-29-55Z (commit 9e49d5e7a648) is refused by the Go
# module proxy ("403 This module version is not available"), in tag and pseudo-version form alike.
# The default is therefore the final commit of minio/minio master (7aac2a2c5b7c, 2026-02-12): that
# release plus 11 bug-fix/doc commits, with an unchanged go.mod. Override with ALPR_MINIO_VERSION.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MINIO_MODULE=github.com/minio/minio
MINIO_VERSION="${ALPR_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
MINIO_BIN_DIR="$ALPR_CACHE_DIR/minio/$MINIO_VERSION"
MINIO_BIN="$MINIO_BIN_DIR/minio"
MINIO_READY_TIMEOUT="${ALPR_MINIO_READY_TIMEOUT:-60}"
NAME=minio

build() { go_install_cached "$MINIO_MODULE" "$MINIO_VERSION" "$MINIO_BIN"; }

# Loads MINIO_ROOT_USER / MINIO_ROOT_PASSWORD (env > credentials.env > newly generated) and exports them.
load_credentials() {
  local dir file key value
  dir="$(state_dir "$NAME")"; file="$dir/credentials.env"
  if [[ -n "${MINIO_ROOT_USER:-}" && -n "${MINIO_ROOT_PASSWORD:-}" ]]; then
    CRED_SOURCE="MINIO_ROOT_USER/MINIO_ROOT_PASSWORD from the environment"
    export MINIO_ROOT_USER MINIO_ROOT_PASSWORD; return 0
  fi
  CRED_SOURCE="$file"
  [[ -z "${MINIO_ROOT_USER:-}" && -z "${MINIO_ROOT_PASSWORD:-}" ]] \
    || die "set both MINIO_ROOT_USER and MINIO_ROOT_PASSWORD, or neither"
  if [[ ! -s "$file" ]]; then
    local password
    password="$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"   # 48 hex chars
    (umask 077
     printf 'MINIO_ROOT_USER=%s\nMINIO_ROOT_PASSWORD=%s\n' "alpr-admin" "$password" >"$file.tmp")
    mv -f "$file.tmp" "$file"
    log "generated credentials in $file"
  fi
  chmod 600 "$file"
  while IFS='=' read -r key value; do
    case "$key" in
      MINIO_ROOT_USER) MINIO_ROOT_USER="$value" ;;
      MINIO_ROOT_PASSWORD) MINIO_ROOT_PASSWORD="$value" ;;
    esac
  done <"$file"
  [[ -n "${MINIO_ROOT_USER:-}" && -n "${MINIO_ROOT_PASSWORD:-}" ]] || die "incomplete $file"
  export MINIO_ROOT_USER MINIO_ROOT_PASSWORD
}

healthy() { curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$ALPR_S3_PORT/minio/health/ready" 2>/dev/null; }

start() {
  command -v curl >/dev/null 2>&1 || die "curl is required"
  if is_running "$NAME"; then
    log "minio already running (pid $(cat "$ALPR_SERVICES_DIR/$NAME/pid")) on 127.0.0.1:$ALPR_S3_PORT"
    return 0
  fi
  build
  local dir logfile pid t0 deadline data
  dir="$(state_dir "$NAME")"; logfile="$dir/minio.log"
  # ALPR_MINIO_DATA_DIR=/dev/shm/... keeps objects in memory, like the test PostgreSQL's fsync=off:
  # this machine's disk manages a few hundred fsyncs a second, which caps MinIO, not the code.
  data="${ALPR_MINIO_DATA_DIR:-$dir/data}"
  mkdir -p "$data"
  if (exec 3<>"/dev/tcp/127.0.0.1/$ALPR_S3_PORT") 2>/dev/null; then
    die "port $ALPR_S3_PORT is already in use by another process"
  fi
  load_credentials
  # Loopback only (API also binds [::1]); no web console; no in-place `mc admin update`.
  # The background scanner (lifecycle, healing) at its slowest: at its default it kept 30-45 % of
  # a core busy over the many small buckets tests leave, skewing every benchmark on 2 cores.
  export MINIO_BROWSER=off MINIO_UPDATE=off MINIO_SCANNER_SPEED=slowest
  printf '\n==== start %s ====\n' "$(date '+%F %T')" >>"$logfile"
  start_background "$NAME" "$logfile" "$MINIO_BIN" server "$data" \
    --address "127.0.0.1:$ALPR_S3_PORT" --console-address "127.0.0.1:$ALPR_S3_CONSOLE_PORT"
  pid="$(cat "$dir/pid")"; t0=$SECONDS; deadline=$((SECONDS + MINIO_READY_TIMEOUT))
  until healthy; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
      if kill -0 "$pid" 2>/dev/null; then log "minio not ready after ${MINIO_READY_TIMEOUT}s; last log lines:"
      else log "minio exited during startup; last log lines:"; fi
      tail -n 40 "$logfile" >&2 || true
      stop_pid "$NAME"
      die "minio failed to start (log: $logfile)"
    fi
    sleep 0.5
  done
  log "minio ready on http://127.0.0.1:$ALPR_S3_PORT (pid $pid, $((SECONDS - t0)) s); credentials: $CRED_SOURCE"
}

stop() {
  if is_running "$NAME"; then log "stopping minio"; fi
  stop_pid "$NAME"
}

status() {
  if is_running "$NAME" && healthy; then
    echo "minio running (pid $(cat "$ALPR_SERVICES_DIR/$NAME/pid")) on http://127.0.0.1:$ALPR_S3_PORT"
    return 0
  fi
  echo "minio not running"
  return 1
}

case "${1:-}" in
  build) build; echo "$MINIO_BIN" ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 {build|start|stop|status}" >&2; exit 2 ;;
esac
