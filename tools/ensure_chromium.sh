#!/usr/bin/env bash
# `make test` drives the dashboard in Debian's headless Chromium (Playwright never downloads a browser).
# Find it; as root on Debian or Ubuntu install it; otherwise stop and say exactly what to install.
set -euo pipefail

chromium="${SCIENCECITIES_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium for the dashboard's browser tests (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
    exit 0
fi
cat >&2 <<MSG
error: the test suite drives the dashboard in headless Chromium, and none was found at $chromium.
hint: install it and run \`make test\` again:
  Debian/Ubuntu:  sudo apt-get install -y chromium
  elsewhere:      any Chromium or Chrome binary, named by SCIENCECITIES_CHROMIUM=/path/to/chromium
  or run the rest without it: .venv/bin/python -m pytest -m 'not browser'
MSG
exit 1
