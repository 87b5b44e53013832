#!/usr/bin/env bash
# Chromium from Debian, for the console's browser tests (tests/browser), driven by Playwright.
# Only the binary matters: Playwright launches it itself; `playwright install` is never run.
# Usage: infra/chromium.sh install|version
source "$(dirname "$0")/lib.sh"

install() { install_debian_tool chromium chromium; }

version() { chromium --version 2>/dev/null | head -n 1; }

"${1:?usage: $0 install|version}"
