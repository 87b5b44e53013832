#!/usr/bin/env bash
# Caddy, the front door's reverse proxy, built from the Go module proxy with `go install` (cached),
# for the proxy checks in tests/deploy/test_proxy.py (`caddy validate` and a real `caddy run`).
# The version is the one docker-compose.yml's `proxy` image runs: change both together.
#
#   infra/caddy.sh install  build (or reuse) the pinned binary, link it into $ALPR_SERVICES_DIR/bin
#   infra/caddy.sh path     print the binary's path; exit 1 if it is not built
#   infra/caddy.sh version  print the built binary's version
#
# Binary: $ALPR_CACHE_DIR/caddy/<version>/caddy (GOPATH/GOCACHE under $ALPR_CACHE_DIR/go, shared
#         with infra/minio.sh), linked as $ALPR_SERVICES_DIR/bin/caddy.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CADDY_MODULE=github.com/caddyserver/caddy/v2/cmd/caddy
CADDY_VERSION=v2.11.9  # docker-compose.yml: image caddy:2.11.9
CADDY_BIN_DIR="$ALPR_CACHE_DIR/caddy/$CADDY_VERSION"
CADDY_BIN="$CADDY_BIN_DIR/caddy"
CADDY_LINK="$ALPR_SERVICES_DIR/bin/caddy"

find_go() {
  if command -v go >/dev/null 2>&1; then command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then printf '%s' /usr/local/go/bin/go
  else die "go not found (need Go >= 1.25 to build Caddy)"
  fi
}

build() {
  [[ -x "$CADDY_BIN" ]] && return 0
  local go_cmd tmp_bin start
  go_cmd="$(find_go)"
  mkdir -p "$CADDY_BIN_DIR" "$ALPR_CACHE_DIR/go"
  # Serialise concurrent builds; the loser reuses the winner's binary.
  exec 9>"$CADDY_BIN_DIR/.build.lock"
  flock 9
  if [[ -x "$CADDY_BIN" ]]; then exec 9>&-; return 0; fi
  log "building $CADDY_MODULE@$CADDY_VERSION (cached afterwards)"
  tmp_bin="$(mktemp -d "$CADDY_BIN_DIR/.gobin.XXXXXX")"
  start=$SECONDS
  # CGO off and GOTOOLCHAIN=local, as infra/minio.sh: no C toolchain, no toolchain downloads.
  if ! GOBIN="$tmp_bin" GOPATH="$ALPR_CACHE_DIR/go" GOMODCACHE="$ALPR_CACHE_DIR/go/pkg/mod" \
      GOCACHE="$ALPR_CACHE_DIR/go/cache" CGO_ENABLED=0 GOTOOLCHAIN=local \
      "$go_cmd" install -trimpath "$CADDY_MODULE@$CADDY_VERSION"; then
    rm -rf "$tmp_bin"; exec 9>&-
    die "go install $CADDY_MODULE@$CADDY_VERSION failed"
  fi
  mv -f "$tmp_bin/caddy" "$CADDY_BIN"   # atomic: an interrupted build leaves no half binary
  rm -rf "$tmp_bin"; exec 9>&-
  log "built $CADDY_BIN in $((SECONDS - start)) s"
}

install() {
  build
  mkdir -p "$(dirname "$CADDY_LINK")"
  ln -sfn "$CADDY_BIN" "$CADDY_LINK"
}

path() {
  [[ -x "$CADDY_BIN" ]] || { log "caddy is not built: run infra/caddy.sh install"; return 1; }
  printf '%s\n' "$CADDY_BIN"
}

version() { "$CADDY_BIN" version; }

case "${1:-}" in
  install) install ;;
  path) path ;;
  version) version ;;
  *) echo "usage: $0 {install|path|version}" >&2; exit 2 ;;
esac
