#!/usr/bin/env bash
# Runs every test of TacRS.Hil on a fresh machine that has only the .NET SDK:
# installs the real third-party peers the interop tests talk to (Debian packages), builds the
# small C peers, then runs the whole suite and prints one closing line "N passed, N failed".
# Nothing is skipped silently: a skipped or inconclusive test is counted and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

PEERS=(socat python3-pymodbus mbpoll libmodbus-dev libhamlib-utils python3-sgp4 python3-skyfield python3-pigpio pigpio-tools chromium sqlite3 gcc pkg-config procps util-linux)
missing=()
for p in "${PEERS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing test peers: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# C peers built from libmodbus-dev (server and client used by interop tests and the benchmark).
if [ -x tools/libmodbus/build.sh ]; then tools/libmodbus/build.sh; fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
set +e
dotnet test TacRS.Hil.sln -c Release --nologo --results-directory "$results" --logger "trx" "$@"
status=$?
# The tools (benchmarks, fuzz driver, soak) are not in the solution but link its code: they must keep building.
for t in tools/*/*.csproj; do
  if ! dotnet build "$t" -c Release --nologo -v q >"$results/tool-build.log" 2>&1; then
    echo "tool does not build: $t"; tail -20 "$results/tool-build.log"; status=1
  fi
done
set -e

/usr/bin/python3 - "$results" "$status" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
files = glob.glob(sys.argv[1] + "/**/*.trx", recursive=True)
for f in files:
    c = ET.parse(f).getroot().find("t:ResultSummary/t:Counters", ns)
    passed += int(c.get("passed", 0))
    failed += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0)) + int(c.get("aborted", 0))
    skipped += int(c.get("notExecuted", 0)) + int(c.get("inconclusive", 0))
status = int(sys.argv[2])
if status != 0 and failed == 0:
    failed = 1  # the runner itself failed (build error, crash): never report a green line
print(f"{len(files)} test assemblies")
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or skipped or status else 0)
PY
