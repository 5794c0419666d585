# shellcheck shell=bash
# Shared set-up for ./facecluster and ./test.sh. Sourced, not run.
# Installs what a fresh Debian/Ubuntu machine with only the .NET SDK lacks, and builds the tool.

FC_ROOT="${FC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
FC_CONFIG="${FC_CONFIG:-Release}"
FC_RID="linux-x64"
FC_OUT="$FC_ROOT/artifacts/bin/FaceCluster.Cli/$(echo "$FC_CONFIG" | tr '[:upper:]' '[:lower:]')_$FC_RID"
FC_DLL="$FC_OUT/facecluster.dll"
FC_STAMP="$FC_ROOT/artifacts/.facecluster-build-stamp"

fc_log() { printf 'facecluster: %s\n' "$*" >&2; }

fc_have_lib() { /sbin/ldconfig -p 2>/dev/null | grep -q "$1" || ldconfig -p 2>/dev/null | grep -q "$1"; }

# A check is lib:SONAME (a shared library the loader finds), cmd:NAME (a program on PATH) or file:PATH.
fc_have() {
  case "$1" in
    lib:*) fc_have_lib "${1#lib:}" ;;
    cmd:*) command -v "${1#cmd:}" >/dev/null 2>&1 ;;
    file:*) [ -e "${1#file:}" ] ;;
    *) return 1 ;;
  esac
}

# fc_ensure_apt_packages "description" check package [check package ...]
fc_ensure_apt_packages() {
  local what="$1"; shift
  local missing=()
  while [ $# -ge 2 ]; do
    fc_have "$1" || missing+=("$2")
    shift 2
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -r /etc/os-release ] && grep -qiE '^(ID|ID_LIKE)=.*(debian|ubuntu)' /etc/os-release && command -v apt-get >/dev/null; then
    if [ "$(id -u)" = "0" ]; then
      fc_log "installing ${missing[*]} ($what) with apt-get"
      if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/facecluster-apt.log 2>&1 \
             || { apt-get update >>/tmp/facecluster-apt.log 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/facecluster-apt.log 2>&1; }; }; then
        fc_log "apt-get could not install ${missing[*]}; see /tmp/facecluster-apt.log"
        return 1
      fi
    else
      fc_log "missing ${missing[*]} ($what). Run:  sudo apt-get install -y --no-install-recommends ${missing[*]}"
      return 1
    fi
  else
    fc_log "missing the system library for $what (Debian/Ubuntu package: ${missing[*]}); install it with your package manager"
    return 1
  fi
}

fc_ensure_system_deps() {
  command -v dotnet >/dev/null || { fc_log "the .NET 10 SDK is required (dotnet not on PATH): https://dot.net"; return 1; }
  # OpenCvSharp4.official.runtime.linux-x64 links against GTK 3.
  fc_ensure_apt_packages "OpenCV's native runtime" lib:libgtk-3.so.0 libgtk-3-0
  # OpenCV's Haar cascades: the face prior of curation (a run says so and goes without it where they are missing)
  # and where `plant` puts its occluders.
  fc_ensure_apt_packages "OpenCV's Haar cascades" file:/usr/share/opencv4/haarcascades/haarcascade_profileface.xml opencv-data || true
}

# True when the tool must be (re)built: no binary yet, or any source newer than the last build.
fc_build_is_stale() {
  [ -f "$FC_DLL" ] && [ -f "$FC_STAMP" ] || return 0
  local newer
  newer=$(cd "$FC_ROOT" && find src build Directory.Build.props Directory.Build.targets Directory.Packages.props nuget.config global.json \
            -newer "$FC_STAMP" \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' -o -name '*.json' -o -name '*.config' -o -name '*.html' -o -name '*.js' -o -name '*.css' -o -type d \) \
            -not -path '*/obj/*' -not -path '*/bin/*' -print -quit 2>/dev/null)
  [ -n "$newer" ]
}

fc_build() {
  mkdir -p "$FC_ROOT/artifacts"
  (
    # One build at a time, however many ./facecluster commands start together.
    exec 9>"$FC_ROOT/artifacts/.build.lock"
    flock 9
    if fc_build_is_stale; then
      fc_log "building the tool ($FC_CONFIG; the first build restores packages and takes a few minutes)"
      local start; start=$(date +%s)
      touch "$FC_STAMP.new"
      if ! dotnet build "$FC_ROOT/src/Cli/FaceCluster.Cli.csproj" -c "$FC_CONFIG" -nologo -v q -clp:ErrorsOnly >"$FC_ROOT/artifacts/build.log" 2>&1; then
        cat "$FC_ROOT/artifacts/build.log" >&2
        fc_log "build failed (log: artifacts/build.log)"
        rm -f "$FC_STAMP.new"
        exit 1
      fi
      mv "$FC_STAMP.new" "$FC_STAMP"
      fc_log "built in $(( $(date +%s) - start ))s"
    fi
  )
}

# Debian's PyTorch (CPU, with torch.distributed and gloo): the peer `bench scaling` measures (PyTorch DDP).
fc_ensure_bench_deps() {
  fc_ensure_apt_packages "the PyTorch DDP peer of bench scaling" file:/usr/lib/python3/dist-packages/torch/__init__.py python3-torch
}

fc_ensure_test_deps() {
  # The bench scaling test checks the peer's figures where it runs, and that the bench says why where it cannot.
  fc_ensure_bench_deps || true
  # iproute2 for the multi-host tests in network namespaces (skipped, with a message, where not permitted).
  fc_ensure_apt_packages "network namespace tests" cmd:ip iproute2 || true
  # Debian's chromium for the dashboard browser test (Playwright drives /usr/bin/chromium; that test fails, saying
  # how to install it, where it is missing). shellcheck and yamllint for deploy/validate.sh (its test skips, saying
  # why, where they cannot be installed).
  fc_ensure_apt_packages "the dashboard browser test" cmd:chromium chromium || true
  fc_ensure_apt_packages "deploy/validate.sh" cmd:shellcheck shellcheck cmd:yamllint yamllint || true
}
