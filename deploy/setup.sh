#!/usr/bin/env bash
# Installs what building Drover needs and is not part of Swift itself:
# libzmq (Debian's libzmq3-dev), SQLite's headers and pkg-config. Installs only what is
# missing, so it is quick to run again. Source it or run it; it exits non-zero on failure.
set -euo pipefail

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists libzmq 2>/dev/null || missing+=(libzmq3-dev)
[ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    apt_get=(apt-get)
  elif command -v sudo >/dev/null 2>&1; then
    apt_get=(sudo apt-get)
  else
    echo "setup: need root to install ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  "${apt_get[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: Swift 6.2 or newer is needed (swift not found on PATH)." >&2
  exit 1
fi
echo "setup: libzmq $(pkg-config --modversion libzmq), $(swift --version 2>/dev/null | head -n 1)"
