#!/usr/bin/env bash
# Installs Debian's chromium for the console's browser tests (test/browser) when it is missing.
# Needs root and apt; prints why and exits 1 otherwise, so the tests then skip with that reason.
set -euo pipefail

for candidate in "${AGENTOS_CHROMIUM:-}" chromium chromium-browser google-chrome; do
  if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then
    echo "chromium present: $(command -v "$candidate")"
    exit 0
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "chromium is missing and this user is not root: run 'apt-get install -y chromium' as root" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is missing and apt-get is not available on this system" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent (slim images): refresh them only when the first try fails.
apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 ||
  { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; }
echo "chromium installed: $(command -v chromium)"
