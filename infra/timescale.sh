#!/usr/bin/env bash
# PGlite with TimescaleDB (PostgreSQL 17 in WebAssembly, from npm) served over the PostgreSQL wire
# protocol on 127.0.0.1:$ALPR_TIMESCALE_PORT, for the compatibility tests of the hypertable path
# (tests/integration/timescale, docs/decisions.md#timescaledb-in-webassembly). Never for speed.
# In memory: a start begins with an empty database. One connection at a time; any user, database
# name and password are accepted (a password must be sent).
# The packages are installed with `npm ci` from infra/timescale/package-lock.json into the cache.
# Env: ALPR_TIMESCALE_PORT (15433), ALPR_TIMESCALE_START_TIMEOUT (120 s).
# Usage: infra/timescale.sh install|start|stop|status|url
source "$(dirname "$0")/lib.sh"

TS_SOURCE="$INFRA_DIR/timescale"
TS_STATE="$(state_dir timescale)"
TS_LOG="$TS_STATE/timescale.log"

# app_dir -> the cache directory of one lockfile's install (a new lockfile installs afresh).
app_dir() { printf '%s' "$ALPR_CACHE_DIR/timescale/app-$(cat "$TS_SOURCE/package-lock.json" | sha256sum | cut -c1-16)"; }

install() {
  local dir; dir="$(app_dir)"
  [[ -f "$dir/node_modules/.package-lock.json" ]] && return 0
  command -v node >/dev/null || die "node (>= 20) is needed: apt-get install nodejs npm"
  log "installing PGlite with TimescaleDB from npm into $dir (first run only)"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  cp "$TS_SOURCE/package.json" "$TS_SOURCE/package-lock.json" "$TS_SOURCE/.npmrc" "$dir.tmp/"
  (cd "$dir.tmp" && npm ci --no-audit --no-fund --ignore-scripts) > "$TS_STATE/npm.log" 2>&1 \
    || { tail -n 30 "$TS_STATE/npm.log" >&2; die "npm ci failed (log: $TS_STATE/npm.log)"; }
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  if is_running timescale; then
    wait_ready
    log "timescale already running on 127.0.0.1:$ALPR_TIMESCALE_PORT"; return 0
  fi
  port_busy "$ALPR_TIMESCALE_PORT" && die "port $ALPR_TIMESCALE_PORT is in use by another process"
  install
  local dir; dir="$(app_dir)"
  cp "$TS_SOURCE/server.mjs" "$dir/server.mjs"  # beside node_modules, where its imports resolve
  : > "$TS_LOG"
  log "starting PGlite with TimescaleDB on 127.0.0.1:$ALPR_TIMESCALE_PORT"
  (cd "$TS_STATE" && ALPR_TIMESCALE_PORT="$ALPR_TIMESCALE_PORT" \
    start_background timescale "$TS_LOG" node "$dir/server.mjs")
  wait_ready
  log "timescale ready on 127.0.0.1:$ALPR_TIMESCALE_PORT"
}

# The server logs its "listening" line once the database is ready and the port is bound.
wait_ready() {
  local waited=0 timeout_s="${ALPR_TIMESCALE_START_TIMEOUT:-120}"
  until grep -q "listening on" "$TS_LOG" 2>/dev/null; do
    if ! is_running timescale; then
      tail -n 40 "$TS_LOG" >&2; die "timescale exited during start-up (log: $TS_LOG)"
    fi
    sleep 1; waited=$((waited + 1))
    ((waited < timeout_s)) || { tail -n 40 "$TS_LOG" >&2; die "timescale not ready after ${timeout_s}s"; }
  done
}

stop() { stop_pid timescale; }

status() {
  is_running timescale && echo "timescale running on 127.0.0.1:$ALPR_TIMESCALE_PORT" \
    || { echo "timescale stopped"; return 1; }
}

url() { printf 'postgresql://postgres@127.0.0.1:%s/postgres\n' "$ALPR_TIMESCALE_PORT"; }

"${1:?usage: $0 install|start|stop|status|url}"
