#!/usr/bin/env bash
# Mosquitto (the MQTT broker) from Debian, for the tests of alert delivery over MQTT
# (tests/integration/test_alert_mqtt.py). Only the binaries matter: the package's own service must
# not start (policy-rc.d says no), and the tests run their own broker on 127.0.0.1 with a password
# file and no anonymous access.
# Usage: infra/mosquitto.sh install|version
source "$(dirname "$0")/lib.sh"

install() {
  if command -v mosquitto >/dev/null && command -v mosquitto_passwd >/dev/null; then return 0; fi
  log "installing mosquitto from Debian"
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null
  stop_package_service
}

# Where systemd runs, the package enables and may start its own broker on :1883; not ours.
stop_package_service() {
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now mosquitto >/dev/null 2>&1 || true
  fi
}

version() { mosquitto -h | head -n 1; }

"${1:?usage: $0 install|version}"
