#!/usr/bin/env bash
# Starts what deploy/docker-compose.yml and deploy/k8s start, as they start it, on this one machine, and checks
# that the cluster forms, trains, finishes and does not restart into a loop. Run by `deploy/validate.sh --run`.
#
#   run-shipped.sh MODULES [compose|k8s ...]     (MODULES: the folder with node_modules that validate.sh made)
#
# What is taken from the shipped files (by shipped-nodes.mjs, never copied here): every node (a Compose service,
# a StatefulSet pod per replica), its argv (the image's ENTRYPOINT + command/args, $(VAR) expanded), its
# environment (the image's ENV + the manifest's env, downward-API names resolved), its user (the image's USER or
# the pod's securityContext), its volumes and secret file (path, owner, mode), its restart policy and the names
# other nodes reach it by.
#
# How it is run: each node in its own network namespace on a bridge, with its own /etc/hosts that maps those
# names (as Compose's and Kubernetes' DNS would), its own host name (a UTS namespace) and its own mount namespace
# in which its volumes are bind-mounted at the manifest's paths; it runs as the manifest's user with exactly its
# argv and environment. A supervisor applies the restart policy. Three things are adapted to this host, and each
# is printed: `facecluster` on PATH is this checkout's build, DOTNET_ROOT and HOME point at this host's runtime
# and a scratch folder, and a `--device cuda:N` becomes `--device cpu` where no NVIDIA GPU is present.
# The operator's settings are a short run (FACECLUSTER_CYCLES=2, FACECLUSTER_STEPS_PER_CYCLE=4, as an operator
# sets them in the shell for Compose or in deploy/k8s/run.env; give others in the environment) and the face set is
# tests/data/cmu-faces. Mount points missing on this host (/data, /runs, /cache, ...) are created
# empty and removed afterwards; namespaces, processes and scratch files are removed even when a check fails.
#
# FC_VALIDATE_DEADLINE=S: seconds a run may take to finish (600).
# FC_VALIDATE_LOGS=DIR keeps every node's output in DIR/<setup>/<node>.log.
# Exit 0: every check passed; 1: a check failed; 4: skipped (not root, or no network namespaces), with the reason.
set -uo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
MODULES="$1"; shift
SETUPS=("$@"); [ ${#SETUPS[@]} -gt 0 ] || SETUPS=(compose k8s)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

say() { printf 'run: %s\n' "$*" >&2; }
failed=0
fail() { say "FAIL: $*"; failed=1; }
ok() { say "ok  $*"; }

if [ "$(id -u)" != 0 ]; then say "SKIPPED: starting the shipped nodes needs root (network namespaces, bind mounts, the image's user)"; exit 4; fi
for tool in ip unshare setpriv curl node; do
  command -v "$tool" >/dev/null || { say "SKIPPED: $tool is missing"; exit 4; }
done
[ -x "$FC_OUT/facecluster" ] || { say "FAIL: no build at $FC_OUT/facecluster (run ./facecluster --help once)"; exit 1; }
tag=$(printf '%04x' $((RANDOM % 65536)))
if ! ip netns add "fcv$tag-probe" 2>/dev/null; then say "SKIPPED: \`ip netns add\` is not permitted here"; exit 4; fi
ip netns del "fcv$tag-probe"

work=$(mktemp -d /tmp/fc-validate-run.XXXXXX)
chmod 755 "$work"
created_mountpoints=()
namespaces=()
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  for d in "$work"/plan/*/*/; do
    [ -d "$d" ] || continue
    touch "$d/stop"
    [ -f "$d/supervisor" ] && kill "$(cat "$d/supervisor")" 2>/dev/null
    [ -f "$d/pid" ] && kill -KILL "$(cat "$d/pid")" 2>/dev/null
  done
  wait 2>/dev/null
  # A killed node dies asynchronously, and while it lives its private mount namespace holds a copy of every
  # /run/netns mount, so `ip netns del` cannot unlink them yet (EBUSY). Wait for the namespaces to empty, then
  # remove them newest first (the hub last), retrying a few times; say so if one stays.
  local ns pid left tries
  for ((tries = 0; tries < 60; tries++)); do
    left=""
    for ns in "${namespaces[@]}"; do
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; left=1; done
    done
    [ -z "$left" ] && break
    sleep 0.5
  done
  for ((i = ${#namespaces[@]} - 1; i >= 0; i--)); do
    ns="${namespaces[$i]}"
    for ((tries = 0; tries < 20; tries++)); do
      ip netns del "$ns" 2>/dev/null && break
      [ -e "/run/netns/$ns" ] || break
      sleep 0.5
    done
    [ -e "/run/netns/$ns" ] && say "could not remove the network namespace $ns: $(ip netns del "$ns" 2>&1)"
    rm -rf "/etc/netns/$ns"
  done
  if [ -n "${FC_VALIDATE_LOGS:-}" ]; then
    for d in "$work"/plan/*/*/; do
      [ -f "$d/log" ] || continue
      mkdir -p "$FC_VALIDATE_LOGS/$(basename "$(dirname "$d")")"
      cp "$d/log" "$FC_VALIDATE_LOGS/$(basename "$(dirname "$d")")/$(basename "$d").log"
    done
  fi
  for ((i = ${#created_mountpoints[@]} - 1; i >= 0; i--)); do
    local p="${created_mountpoints[$i]}"
    if [ -f "$p" ] && [ ! -s "$p" ]; then rm -f "$p"; elif [ -d "$p" ]; then rmdir "$p" 2>/dev/null; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A mount point the manifest names: created empty (with its missing parents) if this host lacks it.
ensure_mountpoint() { # PATH file|dir
  local path="$1" kind="$2" parts="" part
  IFS=/ read -ra parts <<<"${path#/}"
  local current=""
  for ((i = 0; i < ${#parts[@]}; i++)); do
    part="${parts[$i]}"
    current="$current/$part"
    [ -e "$current" ] && continue
    if [ "$i" = $((${#parts[@]} - 1)) ] && [ "$kind" = file ]; then : >"$current"; else mkdir "$current"; fi
    created_mountpoints+=("$current")
  done
}

have_gpu=0
nvidia-smi -L >/dev/null 2>&1 && have_gpu=1
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
mkdir -p "$work/bin"
ln -s "$FC_OUT/facecluster" "$work/bin/facecluster"

# The operator's settings: a short run unless given (FACECLUSTER_CYCLES=10 FACECLUSTER_STEPS_PER_CYCLE=50 runs the
# shipped defaults); everything else as shipped.
export FACECLUSTER_CYCLES="${FACECLUSTER_CYCLES:-2}" FACECLUSTER_STEPS_PER_CYCLE="${FACECLUSTER_STEPS_PER_CYCLE:-4}"
node "$MODULES/shipped-nodes.mjs" "$ROOT" "$work/plan" >"$work/plan.log" 2>&1 || { cat "$work/plan.log" >&2; say "FAIL: could not read the shipped files"; exit 1; }

# Writes the node's start script: run inside its network namespace, as root, in a fresh UTS and mount namespace.
prepare_node() { # SHARED_DIR NODE_DIR
  local shared="$1" d="$2"
  local uid gid name argv=() env=() i
  name=$(basename "$d"); name=${name#*-}
  IFS=: read -r uid gid <"$d/user"
  mapfile -d '' argv <"$d/argv"
  mapfile -d '' env <"$d/env"
  for ((i = 0; i < ${#argv[@]}; i++)); do
    if [ "${argv[$i]}" = --device ] && [[ "${argv[$((i + 1))]:-}" == cuda* ]] && [ "$have_gpu" = 0 ]; then
      say "$name: --device ${argv[$((i + 1))]} runs as --device cpu (no NVIDIA GPU on this host)"
      argv[i + 1]=cpu
    fi
  done
  mkdir -p "$d/home" "$d/volumes"
  chown "$uid:$gid" "$d/home"
  {
    echo "#!/usr/bin/env bash"
    echo "set -e"
    printf 'hostname %q\n' "$(cat "$d/hostname")"
    while read -r path kind volume owner mode shipped; do
      [ -n "$path" ] || continue
      local source
      case "$kind" in
        faces) source="$shared/faces" ;;
        volume) source="$d/volumes/$volume"; mkdir -p "$source"; chown "$uid:$gid" "$source" ;;
        secret)
          source="$d/volumes/secret-$(basename "$path")"
          # The operator's secret, unless the files ship a value: then that is what the node gets.
          if [ -n "$shipped" ] && [ "$shipped" != - ]; then
            say "$name: $path holds the value shipped in the files"
            cp "$shipped" "$source"
          else
            cp "$shared/cluster.secret" "$source"
          fi
          chown "$owner" "$source"; chmod "$mode" "$source" ;;
        *) say "FAIL: $name: unknown mount kind $kind"; return 1 ;;
      esac
      if [ "$kind" = secret ]; then ensure_mountpoint "$path" file; else ensure_mountpoint "$path" dir; fi
      printf 'mount --bind %q %q\n' "$source" "$path"
    done <"$d/mounts"
    printf 'exec setpriv --reuid=%q --regid=%q --clear-groups -- env -i' "$uid" "$gid"
    printf ' %q' "PATH=$work/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "HOME=$d/home" "${env[@]}" "DOTNET_ROOT=$dotnet_root"
    printf ' %q' "${argv[@]}"
    echo
  } >"$d/start.sh"
}

# Runs a node under its restart policy until $d/stop exists; counts restarts; gives up after 5 (a loop).
supervise() { # NODE_DIR NAMESPACE
  local d="$1" ns="$2" restarts=0 rc policy
  policy=$(cat "$d/restart")
  while [ ! -e "$d/stop" ]; do
    ip netns exec "$ns" unshare --uts --mount --propagation private -- bash "$d/start.sh" >>"$d/log" 2>&1 &
    echo $! >"$d/pid"
    wait $!
    rc=$?
    echo "$rc" >>"$d/exits"
    [ -e "$d/stop" ] && break
    case "$policy" in
      on-failure) [ "$rc" != 0 ] || break ;;
      always | unless-stopped) ;;
      *) break ;;
    esac
    restarts=$((restarts + 1))
    echo "$restarts" >"$d/restarts"
    if [ "$restarts" -gt 5 ]; then touch "$d/looping"; break; fi
    sleep 1
  done
  rm -f "$d/pid"
}

start_node() { # NODE_DIR NAMESPACE
  supervise "$1" "$2" &
  echo $! >"$1/supervisor"
}

running() { [ -f "$1/pid" ] && kill -0 "$(cat "$1/pid")" 2>/dev/null; }
restarts() { cat "$1/restarts" 2>/dev/null || echo 0; }
exits() { tr '\n' ' ' <"$1/exits" 2>/dev/null; }

status_field() { # JSON EXPRESSION (over s, the parsed status)
  node -e 'let s; try { s = JSON.parse(process.argv[1]); } catch { process.exit(2); } console.log(eval(process.argv[2]));' "$1" "$2"
}

run_setup() { # SETUP
  local setup="$1" setup_dir="$work/plan/$1" subnet nodes=() d i=0 ns hub="fcv$tag-$1-hub"
  local shared="$work/shared-$setup"
  subnet=$((RANDOM % 150 + 100))
  say "$setup: starting the nodes of the shipped files:"
  grep "^$setup: " "$work/plan.log" | sed 's/^/    /' >&2
  mkdir -p "$shared/faces"
  cp -r "$ROOT/tests/data/cmu-faces/." "$shared/faces/"
  rm -f "$shared/faces/README.md"
  chown -R 1654:1654 "$shared/faces"
  (umask 077; head -c 32 /dev/urandom | base64 >"$shared/cluster.secret")

  # The bridge, in a namespace of its own; the checker talks to the nodes from there (10.215.S.254).
  ip netns add "$hub" && namespaces+=("$hub")
  ip -n "$hub" link add br0 type bridge
  ip -n "$hub" addr add "10.215.$subnet.254/24" dev br0
  ip -n "$hub" link set br0 up
  ip -n "$hub" link set lo up
  local hosts="$shared/hosts"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$hosts"
  for d in "$setup_dir"/*/; do
    d=${d%/}; nodes+=("$d"); i=$((i + 1))
    echo "10.215.$subnet.$i" >"$d/ip"
    echo "10.215.$subnet.$i $(tr '\n' ' ' <"$d/hosts")" >>"$hosts"
  done
  i=0
  for d in "${nodes[@]}"; do
    i=$((i + 1)); ns="fcv$tag-$setup-$i"
    ip netns add "$ns" && namespaces+=("$ns")
    echo "$ns" >"$d/ns"
    local a="v$tag${setup:0:1}$i" b="p$tag${setup:0:1}$i"
    ip link add "$a" type veth peer name "$b"
    ip link set "$a" netns "$ns"
    ip link set "$b" netns "$hub"
    ip -n "$hub" link set "$b" master br0 up
    ip -n "$ns" link set "$a" name eth0
    ip -n "$ns" addr add "$(cat "$d/ip")/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    mkdir -p "/etc/netns/$ns"
    cp "$hosts" "/etc/netns/$ns/hosts"
    printf 'nameserver 127.0.0.1\n' >"/etc/netns/$ns/resolv.conf"
    prepare_node "$shared" "$d" || return 1
  done

  # The coordinator first, as Compose's depends_on and the StatefulSets' order have it; the workers right after.
  local coordinator="" workers=()
  for d in "${nodes[@]}"; do
    if [ "$(cat "$d/role")" = coordinator ]; then coordinator=$d; else workers+=("$d"); fi
  done
  [ -n "$coordinator" ] || { fail "$setup: no coordinator in the shipped files"; return; }
  for d in "$coordinator" "${workers[@]}"; do start_node "$d" "$(cat "$d/ns")"; done

  local url token_file="" status="" phase="" step=0 total=0 seen_workers="" deadline=$((SECONDS + ${FC_VALIDATE_DEADLINE:-600}))
  url="http://$(cat "$coordinator/ip"):5080"
  while [ $SECONDS -lt $deadline ]; do
    [ -n "$token_file" ] || token_file=$(find "$coordinator/volumes" -name api.token 2>/dev/null | head -1)
    if [ -n "$token_file" ]; then
      status=$(ip netns exec "$hub" curl -sf --max-time 5 -H "Authorization: Bearer $(cat "$token_file")" "$url/api/status" || true)
      if [ -n "$status" ]; then
        phase=$(status_field "$status" 's.phase')
        step=$(status_field "$status" 's.step'); total=$(status_field "$status" 's.totalSteps')
        for id in $(status_field "$status" '(s.workers ?? []).filter(w => w.lastStep > 0).map(w => w.id).join(" ")'); do
          [[ " $seen_workers " == *" $id "* ]] || seen_workers="$seen_workers $id"
        done
        [ "$phase" = finished ] && break
      fi
    fi
    for d in "${nodes[@]}"; do
      if [ -e "$d/looping" ] || [ "$(restarts "$d")" -gt 0 ]; then break 2; fi
    done
    sleep 3
  done

  local n_workers=${#workers[@]} trained
  trained=$(wc -w <<<"$seen_workers")
  if [ "$phase" = finished ]; then ok "$setup: the run finished: step $step of $total"; else fail "$setup: the run did not finish (phase '${phase:-no answer from $url}', step $step of $total)"; fi
  if [ "$trained" = "$n_workers" ]; then ok "$setup: the cluster formed: all $n_workers workers trained ($seen_workers )"
  else fail "$setup: only $trained of $n_workers workers trained ($seen_workers )"; fi

  # Once finished: a node with --stay-up stays up; any other exits 0 and its policy leaves it down. Nothing restarts.
  sleep 8
  for d in "${nodes[@]}"; do
    local name; name=$(basename "$d"); name=${name#*-}
    if [ "$(restarts "$d")" != 0 ]; then fail "$setup: $name restarted $(restarts "$d") time(s) (exits: $(exits "$d")); its log ends:"; tail -15 "$d/log" | sed 's/^/    /' >&2
    elif tr '\0' '\n' <"$d/argv" | grep -qx -- --stay-up; then
      if running "$d"; then ok "$setup: $name stays up after the run (--stay-up), not restarted"
      else fail "$setup: $name has --stay-up but exited ($(exits "$d")); its log ends:"; tail -15 "$d/log" | sed 's/^/    /' >&2; fi
    elif running "$d"; then fail "$setup: $name is still running 15 s after the run finished"
    elif [ "$(exits "$d")" = "0 " ]; then ok "$setup: $name exited 0 when the run was done and its policy ($(cat "$d/restart")) leaves it down"
    else fail "$setup: $name exited $(exits "$d"); its log ends:"; tail -15 "$d/log" | sed 's/^/    /' >&2; fi
  done

  # The coordinator is stopped and started again, as a node drain, a reboot or `docker compose up -d` does: it
  # resumes the finished run in its finished phase (serving the dashboard and ledger), and does not loop.
  if [ "$phase" = finished ] && running "$coordinator"; then
    local before; before=$(restarts "$coordinator")
    kill -TERM "$(cat "$coordinator/pid")"
    local wait_until=$((SECONDS + 60))
    while running "$coordinator" && [ $SECONDS -lt $wait_until ]; do sleep 1; done
    sleep 3
    if [ "$(restarts "$coordinator")" = "$before" ] && ! running "$coordinator"; then
      say "$setup: the coordinator exited $(exits "$coordinator"| awk '{print $NF}') on SIGTERM and its policy leaves it down; started again as the platform would"
      start_node "$coordinator" "$(cat "$coordinator/ns")"
    fi
    phase=""
    wait_until=$((SECONDS + 90))
    while [ $SECONDS -lt $wait_until ]; do
      status=$(ip netns exec "$hub" curl -sf --max-time 5 -H "Authorization: Bearer $(cat "$token_file")" "$url/api/status" || true)
      [ -n "$status" ] && phase=$(status_field "$status" 's.phase') && [ "$phase" = finished ] && break
      sleep 2
    done
    local restarted_step="?"
    [ -n "$status" ] && restarted_step=$(status_field "$status" 's.step')
    sleep 6
    if [ "$phase" = finished ] && running "$coordinator" && [ "$restarted_step" = "$step" ]; then
      ok "$setup: started again, the coordinator resumes the finished run at step $step and stays up (no loop)"
    else
      fail "$setup: started again, the coordinator is in phase '${phase:-no answer}' at step $restarted_step, running: $(running "$coordinator" && echo yes || echo no) (exits: $(exits "$coordinator")); its log ends:"
      tail -20 "$coordinator/log" | sed 's/^/    /' >&2
    fi
  fi
  for d in "${nodes[@]}"; do touch "$d/stop"; running "$d" && kill -TERM "$(cat "$d/pid")" 2>/dev/null; done
  for d in "${nodes[@]}"; do
    local until=$((SECONDS + 30))
    while running "$d" && [ $SECONDS -lt $until ]; do sleep 1; done
    running "$d" && kill -KILL "$(cat "$d/pid")" 2>/dev/null
  done
  if [ "$failed" != 0 ]; then
    say "$setup: the coordinator's log ends:"; tail -30 "$coordinator/log" | sed 's/^/    /' >&2
  fi
}

for setup in "${SETUPS[@]}"; do run_setup "$setup"; done
if [ "$failed" = 0 ]; then say "the shipped files form a cluster that trains, finishes and stays down or up without looping"; fi
exit "$failed"
