#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test (unit and real-system) with ava,
# and ends with one summary line "tests: N passed, N failed". Needs root (runc, netns, iptables, cgroups).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "test.sh: run as root: the tests create namespaces, bridges and containers" >&2; exit 1; fi
sh scripts/install-deps.sh || exit 1
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci || exit 1; fi
node scripts/build.mjs || exit 1
sh scripts/sweep.sh
tap=$(mktemp)
npx ava --tap "$@" | tee "$tap"
status=${PIPESTATUS[0]}
sh scripts/sweep.sh
passed=$(grep -cE '^ok ' "$tap")
failed=$(grep -cE '^not ok ' "$tap")
skipped=$(grep -cE '^ok .*# (SKIP|TODO)' "$tap")
# No plan line: ava stopped before its summary (a crash, as its TAP reporter does on a timeout).
if ! grep -qE '^1\.\.[0-9]+' "$tap"; then
  node scripts/tap-gaps.mjs "$tap"
  [ "$status" = 0 ] && status=1
fi
rm -f "$tap"
echo "tests: $((passed - skipped)) passed, $failed failed, $skipped skipped"
if [ "$status" = 0 ] && [ "$failed" != 0 ]; then status=1; fi
exit "$status"
