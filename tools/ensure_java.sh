#!/usr/bin/env bash
# `make test` runs the Spark engine's tests, and Spark 4 needs Java 17 or newer. Find one; as root on
# Debian or Ubuntu install one; otherwise stop and say exactly what to install.
set -euo pipefail

java_major() {
    "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\)[.".].*/\1/p' | head -n 1
}

candidate="${JAVA_HOME:+$JAVA_HOME/bin/java}"
candidate="${candidate:-$(command -v java || true)}"
if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    major="$(java_major "$candidate")"
    if [ -n "$major" ] && [ "$major" -ge 17 ]; then
        exit 0
    fi
    echo "found Java ${major:-of unknown version} at $candidate; Spark needs 17 or newer" >&2
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing openjdk-17-jre-headless for the Spark engine's tests (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null
    exit 0
fi
cat >&2 <<'MSG'
error: the test suite runs the Spark engine, which needs Java 17 or newer, and none was found.
hint: install one and run `make test` again:
  Debian/Ubuntu:  sudo apt-get install -y openjdk-17-jre-headless
  macOS:          brew install openjdk@17
  elsewhere:      a JDK 17+ from https://adoptium.net, with JAVA_HOME set or `java` on the PATH
MSG
exit 1
