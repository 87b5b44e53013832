# Shared helpers for the infra/<service>.sh scripts. Source it; do not run it.
# Runtime state (data, logs, pid files) lives under ALPR_SERVICES_DIR; build and download caches
# that survive a fresh clone live under ALPR_CACHE_DIR. Every server listens on 127.0.0.1 only.
set -euo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$INFRA_DIR/.." && pwd)"
ALPR_SERVICES_DIR="${ALPR_SERVICES_DIR:-$REPO_DIR/.services}"
ALPR_CACHE_DIR="${ALPR_CACHE_DIR:-$HOME/.cache/alpr-core}"

# Defaults sit below 32768, outside Linux's ephemeral port range, so a client connection that
# happens to hold a local port can never keep a server from binding it.
ALPR_PG_PORT="${ALPR_PG_PORT:-15432}"
ALPR_KAFKA_PORT="${ALPR_KAFKA_PORT:-19092}"
ALPR_KAFKA_CONTROLLER_PORT="${ALPR_KAFKA_CONTROLLER_PORT:-19093}"
ALPR_S3_PORT="${ALPR_S3_PORT:-19000}"
ALPR_S3_CONSOLE_PORT="${ALPR_S3_CONSOLE_PORT:-19001}"
ALPR_REGISTRY_PORT="${ALPR_REGISTRY_PORT:-18081}"
ALPR_TIMESCALE_PORT="${ALPR_TIMESCALE_PORT:-15433}"

log() { printf '[infra %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# state_dir NAME -> prints (and creates) the runtime directory of one service.
state_dir() { mkdir -p "$ALPR_SERVICES_DIR/$1"; printf '%s' "$ALPR_SERVICES_DIR/$1"; }

# is_running NAME -> true when the pid recorded for NAME is alive.
is_running() {
  local pid_file="$ALPR_SERVICES_DIR/$1/pid"
  [[ -f "$pid_file" ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

# wait_for_port PORT TIMEOUT_S -> waits until something accepts TCP connections on 127.0.0.1:PORT.
wait_for_port() {
  local port=$1 timeout_s=$2 waited=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    sleep 1; waited=$((waited + 1))
    ((waited < timeout_s)) || return 1
  done
}

# start_background NAME LOGFILE CMD... -> runs CMD detached, records its pid.
start_background() {
  local name=$1 logfile=$2; shift 2
  local dir; dir="$(state_dir "$name")"
  setsid nohup "$@" >>"$logfile" 2>&1 < /dev/null &
  echo $! > "$dir/pid"
}

# stop_pid NAME [SIGNAL] -> stops the recorded process (TERM, then KILL after 20 s).
stop_pid() {
  local name=$1 signal=${2:-TERM} pid_file="$ALPR_SERVICES_DIR/$1/pid" pid waited=0
  [[ -f "$pid_file" ]] || return 0
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$signal" "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && ((waited < 20)); do sleep 1; waited=$((waited + 1)); done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}
