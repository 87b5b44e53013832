#!/usr/bin/env bash
# PostgreSQL 15 from Debian, a private cluster on 127.0.0.1:$ALPR_PG_PORT.
# Usage: infra/postgres.sh start|stop|status
source "$(dirname "$0")/lib.sh"

PG_BIN=/usr/lib/postgresql/15/bin
PG_STATE="$(state_dir postgres)"
PG_DATA="$PG_STATE/data"

install_postgres() {
  [[ -x "$PG_BIN/postgres" && -f /usr/share/postgresql/15/extension/pg_trgm.control ]] && return 0
  log "installing postgresql-15 from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
}

as_postgres() { runuser -u postgres -- "$@"; }

init_cluster() {
  [[ -f "$PG_DATA/PG_VERSION" ]] && return 0
  log "initialising cluster in $PG_DATA"
  chown -R postgres:postgres "$PG_STATE"
  as_postgres "$PG_BIN/initdb" -D "$PG_DATA" --auth=trust --username=postgres -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >> "$PG_DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $ALPR_PG_PORT
unix_socket_directories = '$PG_STATE'
max_connections = 200
shared_buffers = 1GB
work_mem = 16MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
fsync = ${ALPR_PG_FSYNC:-off}
synchronous_commit = ${ALPR_PG_SYNCHRONOUS_COMMIT:-off}
full_page_writes = ${ALPR_PG_FSYNC:-off}
CONF
}

start() {
  if is_running postgres; then log "postgres already running on $ALPR_PG_PORT"; return 0; fi
  install_postgres
  init_cluster
  chown -R postgres:postgres "$PG_STATE"
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_STATE/log" -w -t 60 start >/dev/null \
    || { tail -n 30 "$PG_STATE/log" >&2; die "postgres did not start"; }
  head -n 1 "$PG_DATA/postmaster.pid" > "$PG_STATE/pid"
  create_database
  log "postgres ready on 127.0.0.1:$ALPR_PG_PORT"
}

# The application's owner role and database (trust auth on loopback: this cluster is for dev and
# tests). The owner runs the migrations, which create the services' group roles (CREATEROLE).
create_database() {
  local psql=(psql -h 127.0.0.1 -p "$ALPR_PG_PORT" -U postgres -d postgres -qAtX)
  "${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'alpr'" | grep -q 1 \
    || "${psql[@]}" -c "CREATE ROLE alpr LOGIN CREATEDB CREATEROLE"
  "${psql[@]}" -c "ALTER ROLE alpr CREATEROLE"
  "${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'alpr_db'" | grep -q 1 \
    || "${psql[@]}" -c "CREATE DATABASE alpr_db OWNER alpr"
}

stop() {
  if [[ -f "$PG_DATA/postmaster.pid" ]]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null || true
  fi
  rm -f "$PG_STATE/pid"
}

status() { is_running postgres && echo "postgres running" || { echo "postgres stopped"; return 1; }; }

"${1:?usage: $0 start|stop|status}"
