#!/usr/bin/env bash
# Mosquitto (the MQTT broker) from Debian, for the tests of alert delivery over MQTT
# (tests/integration/delivery/test_mqtt.py). Only the binaries matter: the tests run their own
# broker on 127.0.0.1 with a password file and no anonymous access.
# Usage: infra/mosquitto.sh install|version
source "$(dirname "$0")/lib.sh"

install() { install_debian_tool mosquitto mosquitto mosquitto_passwd; }

version() { mosquitto -h | head -n 1; }

"${1:?usage: $0 install|version}"
