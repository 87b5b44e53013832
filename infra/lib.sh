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

# go_install_cached MODULE VERSION BINARY: build MODULE@VERSION with `go install` into BINARY,
# once (later calls reuse it). GOPATH and GOCACHE live under $ALPR_CACHE_DIR/go, shared by every
# build. CGO off (no C toolchain needed) and GOTOOLCHAIN=local (no toolchain downloads here); keep
# these flags stable: they are part of the build cache key. Concurrent calls take turns on a lock,
# and the loser reuses the winner's binary.
go_install_cached() {
  local module="$1" version="$2" binary="$3" go_cmd bin_dir tmp_bin start
  [[ -x "$binary" ]] && return 0
  if command -v go >/dev/null 2>&1; then go_cmd="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then go_cmd=/usr/local/go/bin/go
  else die "go not found (needed to build $module)"
  fi
  bin_dir="$(dirname "$binary")"
  mkdir -p "$bin_dir" "$ALPR_CACHE_DIR/go"
  exec 9>"$bin_dir/.build.lock"
  flock 9
  if [[ -x "$binary" ]]; then exec 9>&-; return 0; fi
  log "building $module@$version (cached afterwards)"
  tmp_bin="$(mktemp -d "$bin_dir/.gobin.XXXXXX")"
  start=$SECONDS
  if ! GOBIN="$tmp_bin" GOPATH="$ALPR_CACHE_DIR/go" GOMODCACHE="$ALPR_CACHE_DIR/go/pkg/mod" \
      GOCACHE="$ALPR_CACHE_DIR/go/cache" CGO_ENABLED=0 GOTOOLCHAIN=local \
      "$go_cmd" install -trimpath "$module@$version"; then
    rm -rf "$tmp_bin"; exec 9>&-
    die "go install $module@$version failed"
  fi
  mv -f "$tmp_bin/$(basename "$module")" "$binary"  # atomic: no half binary after an interruption
  rm -rf "$tmp_bin"; exec 9>&-
  log "built $binary in $((SECONDS - start)) s"
}

# install_debian_tool PACKAGE BINARY... -> installs PACKAGE from Debian unless every BINARY is on
# PATH; only the binaries matter, so the package's own service must not start (policy-rc.d says
# no, and where systemd runs it is disabled): tests run their own process with our config.
install_debian_tool() {
  local package=$1 binary
  shift
  for binary in "$@"; do command -v "$binary" >/dev/null || break; done
  if command -v "$binary" >/dev/null; then return 0; fi
  log "installing $package from Debian"
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now "$package" >/dev/null 2>&1 || true
  fi
}
