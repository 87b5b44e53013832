#!/usr/bin/env bash
# Prometheus 2.42 and promtool from Debian, for the monitoring checks (tests/deploy) and the test
# that scrapes our services (tests/integration/test_prometheus.py). Only the binaries matter: the
# package's own service must not start (policy-rc.d says no), and tests run their own process on
# 127.0.0.1 with the project's config.
# Usage: infra/prometheus.sh install|version
source "$(dirname "$0")/lib.sh"

install() {
  if command -v prometheus >/dev/null && command -v promtool >/dev/null; then return 0; fi
  log "installing prometheus and promtool from Debian"
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
  stop_package_service
}

# Where systemd runs, the package enables and may start its own prometheus on :9090; not ours.
stop_package_service() {
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
}

version() { prometheus --version | head -n 1; }

"${1:?usage: $0 install|version}"
