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
exec dotnet test tests/FaceCluster.Tests/FaceCluster.Tests.csproj -c "$FC_CONFIG" -nologo \
  --logger "console;verbosity=normal" "$@"
