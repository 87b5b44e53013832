#!/usr/bin/env bash
# Prometheus 2.42 and promtool from Debian, for the monitoring checks (tests/deploy) and the test
# that scrapes our services (tests/integration/test_prometheus.py). Only the binaries matter: the
# tests run their own process on 127.0.0.1 with the project's config.
# Usage: infra/prometheus.sh install|version
source "$(dirname "$0")/lib.sh"

install() { install_debian_tool prometheus prometheus promtool; }

version() { prometheus --version | head -n 1; }

"${1:?usage: $0 install|version}"
