#!/usr/bin/env bash
# Runs deploy/rolling-restart.sh against a fake coordinator (python3's http.server on 127.0.0.1 serving a status
# file) and a fake systemctl (first on PATH) that takes a worker out of the status and puts it back 2 s later.
# Checks that the workers are restarted one at a time, each after the previous one is back, the coordinator
# last, and that a worker that never comes back stops the script with its name. Run by deploy/validate.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/www/api" "$work/bin"
status_json() { # ids of the ready workers
  local first=1
  printf '{"runId":"check","phase":"Training","step":5,"cycle":0,"totalSteps":10,"samplesPerSecond":1,"workers":['
  for id in "$@"; do
    [ "$first" = 1 ] || printf ','
    first=0
    printf '{"id":"%s","host":"h","device":"cpu","state":"Training","batch":4,"samplesPerSecond":1,"lastStep":5,"note":""}' "$id"
  done
  printf ']}'
}
status_json a b >"$work/www/api/status"

# The fake systemctl: "systemctl restart UNIT". Units fake-worker@ID drop worker ID for 2 s (fake-worker@never:
# for good); any other unit is the coordinator, which does not answer for 2 s.
cat >"$work/bin/systemctl" <<FAKE
#!/usr/bin/env bash
set -eu
[ "\$1" = restart ] || { echo "fake systemctl: only restart" >&2; exit 2; }
echo "\$2" >>"$work/restarts"
status="$work/www/api/status"
case "\$2" in
  fake-worker@never) sed -i 's/{"id":"b"[^}]*}//; s/,]/]/; s/\[,/[/' "\$status" ;;
  fake-worker@*)
    id="\${2#fake-worker@}"
    cp "\$status" "$work/saved"
    sed -i "s/{\"id\":\"\$id\"[^}]*}//; s/,]/]/; s/\[,/[/; s/,,/,/" "\$status"
    ( sleep 2; cp "$work/saved" "\$status" ) >/dev/null 2>&1 &
    ;;
  *) mv "\$status" "$work/saved"; ( sleep 2; mv "$work/saved" "\$status" ) >/dev/null 2>&1 & ;;
esac
FAKE
chmod +x "$work/bin/systemctl"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/api/status" >/dev/null 2>&1 && break; sleep 0.1; done

run() { PATH="$work/bin:$PATH" timeout 120 bash "$ROOT/deploy/rolling-restart.sh" --url "http://127.0.0.1:$port" --poll 0.5 "$@"; }

# 1. Two workers, then the coordinator.
run --timeout 30 --coordinator fake-coordinator fake-worker@a fake-worker@b 2>"$work/out1" || { cat "$work/out1" >&2; echo "rolling restart failed" >&2; exit 1; }
order=$(paste -sd' ' "$work/restarts")
[ "$order" = "fake-worker@a fake-worker@b fake-coordinator" ] || { echo "restart order was: $order" >&2; exit 1; }
grep -q "worker fake-worker@a: back (2 of 2" "$work/out1" || { cat "$work/out1" >&2; echo "did not wait for worker a to come back" >&2; exit 1; }
grep -q "coordinator fake-coordinator: back" "$work/out1" || { cat "$work/out1" >&2; echo "did not wait for the coordinator" >&2; exit 1; }

# 2. A worker that never comes back stops the script, named, before the coordinator.
: >"$work/restarts"
sleep 2.5 # the coordinator's fake restart above puts the status back after 2 s
if run --timeout 4 --coordinator fake-coordinator fake-worker@never 2>"$work/out2"; then
  echo "rolling restart went on although a worker never came back" >&2; exit 1
fi
grep -q "worker fake-worker@never did not come back within 4s" "$work/out2" || { cat "$work/out2" >&2; exit 1; }
[ "$(paste -sd' ' "$work/restarts")" = "fake-worker@never" ] || { echo "restarted after the failure: $(cat "$work/restarts")" >&2; exit 1; }
echo "rolling restart: ok (order: $order; a lost worker stops it)" >&2
