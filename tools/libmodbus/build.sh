#!/usr/bin/env bash
# Builds the libmodbus reference server and client (Debian: libmodbus-dev, pkg-config, gcc).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/bin}"
mkdir -p "$out"
flags="$(pkg-config --cflags --libs libmodbus)"
gcc -O2 -Wall -o "$out/modbus-server" "$here/server.c" $flags
gcc -O2 -Wall -o "$out/modbus-client" "$here/client.c" $flags
echo "$out"
