#!/usr/bin/env bash
# Restarts a FaceCluster deployment that runs under systemd, one node at a time: each worker unit, waiting after
# each until the coordinator's GET /api/status lists as many ready workers as before; then the coordinator.
#
#   deploy/rolling-restart.sh [options] WORKER...
#
# WORKER is UNIT (restarted here with systemctl) or HOST:UNIT (restarted over ssh), e.g.
#   deploy/rolling-restart.sh --url http://coord:5080 gpu1:facecluster-worker@0 gpu1:facecluster-worker@1 cpu1:facecluster-worker@cpu
#
# Options:
#   --url URL                 the coordinator's HTTP address (default http://127.0.0.1:5080)
#   --token-file FILE         the coordinator's API token, read before every request (RUNDIR/api.token, or a copy;
#                             default $FACECLUSTER_TOKEN_FILE); /api/status needs it
#   --coordinator [HOST:]UNIT the coordinator's unit (default facecluster-coordinator.service, here); restarted last
#   --no-coordinator          restart the workers only
#   --timeout SECONDS         how long to wait for each node to rejoin (default 600)
#   --poll SECONDS            how often to ask /api/status (default 2)
#   --ssh "COMMAND"           the ssh command (default "ssh -o BatchMode=yes")
#   --sudo                    run systemctl through sudo
#   --dry-run                 print what would be done
# Exits non-zero, naming the node, when one does not come back in time (nothing after it is restarted).
set -euo pipefail

url="http://127.0.0.1:5080"
token_file="${FACECLUSTER_TOKEN_FILE:-}"
coordinator="facecluster-coordinator.service"
restart_coordinator=1
timeout=600
poll=2
ssh_cmd="ssh -o BatchMode=yes"
sudo=""
dry_run=0
workers=()

die() { printf 'rolling-restart: %s\n' "$*" >&2; exit 1; }
log() { printf 'rolling-restart: %s\n' "$*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --url) url="${2:?--url needs a value}"; shift 2 ;;
    --token-file) token_file="${2:?--token-file needs a value}"; shift 2 ;;
    --coordinator) coordinator="${2:?--coordinator needs a value}"; shift 2 ;;
    --no-coordinator) restart_coordinator=0; shift ;;
    --timeout) timeout="${2:?--timeout needs a value}"; shift 2 ;;
    --poll) poll="${2:?--poll needs a value}"; shift 2 ;;
    --ssh) ssh_cmd="${2:?--ssh needs a value}"; shift 2 ;;
    --sudo) sudo="sudo"; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --*) die "unknown option '$1' (see --help)" ;;
    *) workers+=("$1"); shift ;;
  esac
done
if ! [[ "$poll" =~ ^[0-9]+([.][0-9]+)?$ ]]; then die "--poll '$poll' is not a number of seconds"; fi
if ! [[ "$timeout" =~ ^[0-9]+$ ]] || [ "$timeout" -eq 0 ]; then die "--timeout '$timeout' is not a positive number of seconds"; fi
[ ${#workers[@]} -gt 0 ] || [ "$restart_coordinator" = 1 ] || die "nothing to restart: name worker units, or drop --no-coordinator"
command -v curl >/dev/null || die "curl is required"
command -v python3 >/dev/null || die "python3 is required (it reads the JSON of /api/status)"

# Prints "READY TOTAL PHASE IDS" from GET /api/status (IDS: the ready workers' ids, sorted, comma-separated),
# or fails when the coordinator does not answer.
# A worker counts as ready unless its state says it is preparing (building and calibrating its replica), leaving,
# lost or failed.
status() {
  local auth=()
  if [ -n "$token_file" ]; then
    [ -r "$token_file" ] || { log "cannot read the token file $token_file"; return 1; }
    auth=(-H "Authorization: Bearer $(tr -d '[:space:]' <"$token_file")")
  fi
  curl -fsS --max-time 5 "${auth[@]}" "$url/api/status" | python3 -c '
import json, sys
s = json.load(sys.stdin)
workers = s.get("workers") or []
not_ready = {"preparing", "joining", "leaving", "left", "lost", "unreachable", "failed", "down", "removed", "exited"}
ready = [w for w in workers if str(w.get("state", "")).lower() not in not_ready]
ids = ",".join(sorted(str(w.get("id", "")) for w in ready)) or "-"
print(len(ready), len(workers), s.get("phase", "?"), ids)'
}

# run_on TARGET ARGS...: TARGET is UNIT or HOST:UNIT; runs systemctl ARGS UNIT here or over ssh.
systemctl_on() {
  local target="$1"; shift
  local host="" unit="$target"
  if [[ "$target" == *:* ]]; then host="${target%%:*}"; unit="${target#*:}"; fi
  [ -n "$unit" ] || die "'$target' names no unit"
  if [ "$dry_run" = 1 ]; then
    log "would run: ${host:+$ssh_cmd $host }${sudo:+$sudo }systemctl $* $unit"
    return 0
  fi
  if [ -n "$host" ]; then
    # shellcheck disable=SC2086 # ssh_cmd is a command line with options, split on purpose
    $ssh_cmd "$host" ${sudo:+$sudo} systemctl "$@" "$(printf '%q' "$unit")"
  else
    ${sudo:+$sudo} systemctl "$@" "$unit"
  fi
}

# wait_gone IDS WHAT: waits (at most 60 s) until the restart shows: fewer ready workers, other worker ids, or no
# answer (the coordinator itself restarting). A node that restarts faster than one poll is let through.
wait_gone() {
  local ids="$1" what="$2" deadline=$((SECONDS + 60)) line ready total phase now
  [ "$dry_run" = 1 ] && return 0
  while [ "$SECONDS" -lt "$deadline" ]; do
    line=$(status 2>/dev/null) || return 0
    read -r ready total phase now <<<"$line"
    if [ "$ready" -lt "$ready_before" ] || [ "$now" != "$ids" ]; then return 0; fi
    sleep "$poll"
  done
  log "$what: the status never showed it leaving (it may have restarted within one poll)"
}

# wait_ready WANT WHAT: polls until at least WANT workers are ready (and the coordinator answers).
wait_ready() {
  local want="$1" what="$2" deadline=$((SECONDS + timeout)) line ready total phase
  [ "$dry_run" = 1 ] && return 0
  while :; do
    if line=$(status 2>/dev/null); then
      read -r ready total phase _ <<<"$line"
      if [ "$ready" -ge "$want" ]; then
        log "$what: back ($ready of $total workers ready, phase $phase)"
        return 0
      fi
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "$what did not come back within ${timeout}s (last status: ${line:-no answer from $url}); stopping here"
    sleep "$poll"
  done
}

before=$(status) || die "the coordinator does not answer at $url/api/status"
read -r ready_before total_before phase_before ids_before <<<"$before"
log "before: $ready_before of $total_before workers ready, phase $phase_before"

for worker in "${workers[@]}"; do
  log "restarting worker $worker"
  ids_before=$( (status 2>/dev/null || echo "0 0 ? -") | cut -d' ' -f4)
  systemctl_on "$worker" restart
  wait_gone "$ids_before" "worker $worker"
  wait_ready "$ready_before" "worker $worker"
done

if [ "$restart_coordinator" = 1 ]; then
  log "restarting the coordinator $coordinator"
  ids_before=$( (status 2>/dev/null || echo "0 0 ? -") | cut -d' ' -f4)
  systemctl_on "$coordinator" restart
  wait_gone "$ids_before" "coordinator $coordinator"
  wait_ready "$ready_before" "coordinator $coordinator"
fi
log "done"
