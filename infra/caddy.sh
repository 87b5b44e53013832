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

build() { go_install_cached "$CADDY_MODULE" "$CADDY_VERSION" "$CADDY_BIN"; }

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
