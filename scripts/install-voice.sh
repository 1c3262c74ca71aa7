#!/usr/bin/env bash
# Installs the offline voice engines when they are missing: Debian's pocketsphinx (with the en-us model) for
# speech to text and espeak-ng for text to speech. Idempotent: prints what is present and installs only what
# is not. Needs root and apt; prints why and exits 1 otherwise, so voice then reports available:false with
# the reason and the voice tests skip, saying why.
set -euo pipefail

missing=()
if command -v pocketsphinx_continuous >/dev/null 2>&1; then
  echo "pocketsphinx present: $(command -v pocketsphinx_continuous)"
else
  missing+=(pocketsphinx)
fi
if [ -d /usr/share/pocketsphinx/model/en-us/en-us ]; then
  echo "pocketsphinx en-us model present: /usr/share/pocketsphinx/model/en-us"
else
  missing+=(pocketsphinx-en-us)
fi
if command -v espeak-ng >/dev/null 2>&1; then
  echo "espeak-ng present: $(command -v espeak-ng)"
else
  missing+=(espeak-ng)
fi
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing ${missing[*]} and this user is not root: run 'apt-get install -y ${missing[*]}' as root" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing ${missing[*]} and apt-get is not available on this system" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent (slim images): refresh them only when the first try fails.
apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
  { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
echo "installed: ${missing[*]}"
