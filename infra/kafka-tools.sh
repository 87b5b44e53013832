#!/usr/bin/env bash
# Kafka's command-line tools (kafka-topics.sh, kafka-acls.sh: the kafka-tools jar, at the broker's
# version from infra/kafka/pom.xml) from Maven Central, for tests/deploy/test_kafka_edge.py, which
# runs docker-compose.yml's `kafka-init` script with them. The other jars they need are the
# broker's ($ALPR_CACHE_DIR/kafka/lib, resolved by infra/kafka.sh).
#
#   infra/kafka-tools.sh install   copy the jar (once per version)
#   infra/kafka-tools.sh path      print the folder that holds it; exit 1 if it is missing
#
# Jar: $ALPR_CACHE_DIR/kafka-tools/<version>/kafka-tools-<version>.jar
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION="$(sed -n 's|.*<kafka.version>\(.*\)</kafka.version>.*|\1|p' "$INFRA_DIR/kafka/pom.xml")"
[[ -n "$KAFKA_VERSION" ]] || die "no kafka.version in infra/kafka/pom.xml"
TOOLS_DIR="$ALPR_CACHE_DIR/kafka-tools/$KAFKA_VERSION"
TOOLS_JAR="$TOOLS_DIR/kafka-tools-$KAFKA_VERSION.jar"

install() {
  [[ -f "$TOOLS_JAR" ]] && return 0
  command -v mvn >/dev/null || die "mvn not found (apt-get install -y maven)"
  log "copying org.apache.kafka:kafka-tools:$KAFKA_VERSION from Maven Central"
  local tmp="$TOOLS_DIR.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  if ! mvn -q -B -Dstyle.color=never dependency:copy \
      -Dartifact="org.apache.kafka:kafka-tools:$KAFKA_VERSION" -DoutputDirectory="$tmp" >&2; then
    rm -rf "$tmp"
    die "mvn dependency:copy of kafka-tools $KAFKA_VERSION failed"
  fi
  rm -rf "$TOOLS_DIR"
  mv "$tmp" "$TOOLS_DIR"   # atomic: an interrupted copy leaves no half folder
}

path() {
  [[ -f "$TOOLS_JAR" ]] || { log "kafka-tools is missing: run infra/kafka-tools.sh install"; return 1; }
  printf '%s\n' "$TOOLS_DIR"
}

case "${1:-}" in
  install) install ;;
  path) path ;;
  *) echo "usage: $0 {install|path}" >&2; exit 2 ;;
esac
