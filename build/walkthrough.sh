#!/usr/bin/env bash
# A newcomer's walkthrough, run by CI after `make test`: every documented
# command once, from a fresh build, with realistic input, in a throwaway
# HOME (fake sysctl, launchctl and osascript first on PATH for the macOS
# toggles; FORKWATCH_PLATFORM=darwin for the part that drives them). It
# fails when a command exits non-zero where the README documents success,
# or when a raw Go error ("open X: no such file…", "exec: …") reaches the
# user.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
# Not under /tmp: Forkwatch rightly refuses to run an interpreter below a
# folder others can write to (docs/security.md), and the walkthrough's venv
# is where a user's would be, in a folder only they can write.
mkdir -p "$HOME/.cache"
work=$(mktemp -d "$HOME/.cache/forkwatch-walkthrough.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/bin/forkwatch" ./app
fw="$work/bin/forkwatch"

export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" LANG=C
unset DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY XDG_RUNTIME_DIR FORKWATCH_PLATFORM
mkdir -p "$HOME" "$work/fakebin" "$work/reports"
export PATH="$work/fakebin:/usr/local/go/bin:/usr/bin:/bin"
reports="$repo/monitor/report/testdata/reports"

failures=0
step=0
# run EXPECTED_EXIT ARGS...: run forkwatch, check the exit code and that no
# raw Go error is in its output.
run() {
  local want=$1
  shift
  step=$((step + 1))
  local out="$work/out.$step" err="$work/err.$step" code=0
  "$fw" "$@" >"$out" 2>"$err" || code=$?
  local bad=""
  if [ "$code" != "$want" ]; then
    bad="exit $code, documented $want"
  elif grep -Eq '(^|[: ])(open|stat|lstat|read) [^ ]+: (no such file|not a directory|permission denied)|exec: "|executable file not found|command not found' "$out" "$err"; then
    bad="a raw Go error reached the user"
  fi
  if [ -n "$bad" ]; then
    failures=$((failures + 1))
    echo "FAIL forkwatch $*: $bad"
    sed 's/^/  stdout: /' "$out" | head -20
    sed 's/^/  stderr: /' "$err" | head -20
  else
    echo "ok   forkwatch $* (exit $code)"
  fi
}

echo "== help and version"
run 0 --version
run 0 help
run 0 help inspect
run 0 watch --help
run 2 inspct
run 0 completion zsh
run 0 completion bash
run 0 completion fish

echo "== inspect"
run 0 inspect "$reports/python39-rq-objc-fork-django-rq-574.ips"
run 0 inspect --json "$reports/python313-duckdb-segv-chunkhound.ips" "$reports/monerod-sigbus-fork-child-monero-gui-4380.ips"
run 1 inspect "$work/no-such-report.ips"

echo "== watch (a report copied into the watched folder)"
"$fw" watch --json --reports-dir "$work/reports" --cores-dir "" >"$work/watch.out" 2>"$work/watch.err" &
watch_pid=$!
sleep 1
# A complete report (the corpus's Python ones are excerpts, which watch
# waits --quiet-after for before classifying them as partial).
cp "$reports/monerod-sigbus-fork-child-monero-gui-4380.ips" "$work/reports/.tmp" && mv "$work/reports/.tmp" "$work/reports/monerod-2026-11-26-101010.ips"
for _ in $(seq 50); do grep -q '"kind":"crash"' "$work/watch.out" && break; sleep 0.1; done
run 1 watch --reports-dir "$work/reports" --cores-dir "" # a second one: already running
kill -INT "$watch_pid"
code=0
wait "$watch_pid" || code=$?
if [ "$code" != 0 ] || ! grep -q '"cause":"fork-child"' "$work/watch.out"; then
  failures=$((failures + 1))
  echo "FAIL forkwatch watch: exit $code"; cat "$work/watch.out" "$work/watch.err"
else
  echo "ok   forkwatch watch --json (saw the crash, exit 0)"
fi

echo "== history"
run 0 history
run 0 history --since 7d --by day
run 0 history --by program --json
run 0 history --json --all
run 0 history --page --out "$work/history.html"

echo "== toggles on Linux (macOS-only ones refused cleanly)"
run 0 status
run 0 status --json
run 0 set ulimit-core on
run 0 set ulimit-core off
run 1 set fork-safety-off on
test ! -e "$HOME/Library" || { failures=$((failures + 1)); echo "FAIL set fork-safety-off left ~/Library"; }

echo "== toggles as on macOS (fakes on PATH)"
for name in sysctl launchctl osascript; do cp "$repo/settings/testdata/fakes/$name" "$work/fakebin/$name"; done
mkdir -p "$work/fakestate" "$work/fakeroot/Library/LaunchDaemons"
echo 1 >"$work/fakestate/sysctl.kern.coredump"
echo "/cores/core.%P" >"$work/fakestate/sysctl.kern.corefile"
(
  export FORKWATCH_PLATFORM=darwin FAKE_STATE="$work/fakestate" FAKE_BIN="$work/fakebin" FAKE_ROOT="$work/fakeroot" \
    FORKWATCH_LAUNCHDAEMONS_DIR="$work/fakeroot/Library/LaunchDaemons"
  for t in ulimit-core coredump-off fork-safety-off login-item; do
    run 0 set "$t" on
    run 0 set "$t" off
  done
  run 0 status --json
  exit "$failures"
) || failures=$?

echo "== doctor"
run 0 doctor
run 0 doctor --json
run 0 doctor --html "$work/check.html"

echo "== fork tracing"
run 0 trace status
run 0 trace status --json
if python3 -m venv "$work/venv" >/dev/null 2>&1; then
  run 0 trace enable "$work/venv"
  run 0 trace status "$work/venv"
  run 0 trace disable "$work/venv"
else
  echo "skip trace enable (python3 -m venv is not available)"
fi
run 1 trace show 999999
run 0 trace sweep
run 2 trace enable "$repo/monitor/forktrace/tracer/forkwatch_forktrace.py"

echo "== notify (no desktop here: documented exit 1)"
run 1 notify --test

echo "== uninstall"
run 0 uninstall

if [ "$failures" -gt 0 ]; then
  echo "walkthrough: $failures step(s) failed"
  exit 1
fi
echo "walkthrough: all $step steps as documented"
