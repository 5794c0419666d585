#!/usr/bin/env bash
# Runs the whole FaceCluster test suite (set-up included). Extra arguments go to `dotnet test`,
# e.g.  ./test.sh --filter "Tier=unit"
set -euo pipefail
FC_ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
# shellcheck source=scripts/lib.sh
source "$FC_ROOT/scripts/lib.sh"
fc_ensure_system_deps
fc_ensure_test_deps
fc_build
cd "$FC_ROOT"
# The console log is kept, so that a failed run ends with the failed tests and their messages: CI shows the tail.
log=$(mktemp /tmp/facecluster-test.XXXXXX.log)
trap 'rm -f "$log"' EXIT
rc=0
dotnet test tests/FaceCluster.Tests/FaceCluster.Tests.csproj -c "$FC_CONFIG" -nologo \
  --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log" || rc=$?
if [ "$rc" != 0 ] && grep -q '^ *Failed [A-Za-z]' "$log"; then
  echo
  echo "Failed tests (the first 40 lines of each failure):"
  awk '/^ *Passed [A-Za-z]/ { n = 0 } /^ *Failed [A-Za-z]/ { n = 40 } n > 0 { print; n-- }' "$log"
fi
exit "$rc"
