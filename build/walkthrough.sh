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

# has TEXT / lacks TEXT: the last run's output holds TEXT, or does not.
has() {
  if ! grep -qF -- "$1" "$work/out.$step" "$work/err.$step"; then
    failures=$((failures + 1))
    echo "FAIL step $step: no \"$1\" in its output"
  fi
}
lacks() {
  if grep -qF -- "$1" "$work/out.$step" "$work/err.$step"; then
    failures=$((failures + 1))
    echo "FAIL step $step: \"$1\" in its output"
  fi
}
# check WHAT COMMAND...: a shell check of the walkthrough's own.
check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok   $what"
  else
    failures=$((failures + 1))
    echo "FAIL $what"
  fi
}
# start_watch OUT ARGS...: a watch in the background (its pid in
# watch_pid), waited on until its first sweep is done.
start_watch() {
  local out=$1
  shift
  FORKWATCH_DEBUG=1 "$fw" watch "$@" >"$out" 2>"$out.err" &
  watch_pid=$!
  for _ in $(seq 100); do grep -q "history sweep done" "$out.err" && return 0; sleep 0.1; done
  echo "FAIL watch $*: not ready"; failures=$((failures + 1))
}
stop_watch() {
  kill -TERM "$watch_pid"
  local code=0
  wait "$watch_pid" || code=$?
  check "watch stops cleanly on SIGTERM (exit $code)" [ "$code" = 0 ]
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

echo "== issue 32: nothing lost, nothing surprising"
echo "-- sample reports (dated years ago) are all kept across restarts"
mkdir -p "$work/samples"
cp -p "$reports"/* "$work/samples/"
printf 'not a crash report\n' >"$work/samples/garbage.crash"
before=$("$fw" history --json --all | wc -l)
start_watch "$work/s1.out" --json --reports-dir "$work/samples" --cores-dir ""
stop_watch
announced=$(grep -c '"kind":"crash"' "$work/s1.out" || true)
n1=$("$fw" history --json --all | wc -l)
check "watch announced $announced sample crashes, history has them ($n1 - $before)" [ "$announced" -ge 30 -a "$((n1 - before))" = "$announced" ]
start_watch "$work/s2.out" --json --reports-dir "$work/samples" --cores-dir ""
stop_watch
start_watch "$work/s3.out" --json --reports-dir "$work/samples" --cores-dir ""
stop_watch
n3=$("$fw" history --json --all | wc -l)
check "after two restarts history still lists $n1 crashes ($n3)" [ "$n3" = "$n1" ]
run 0 status
has "history: no crash removed by the retention"
run 0 status --json
check "status --json is one line" [ "$(wc -l <"$work/out.$step")" = 1 ]
has '{"schema":1,'
has '"available":false'

echo "-- a bad file is reported once, not at every start"
check "the first start said the bad file" grep -q '"kind":"error"' "$work/s1.out"
check "the next starts did not" bash -c "! grep -q '\"kind\":\"error\"' '$work/s2.out' '$work/s3.out'"

echo "-- a partial report: renamed in, classified at once; written in place, waited on (said once)"
mkdir -p "$work/partial"
start_watch "$work/p.out" --json --reports-dir "$work/partial" --cores-dir "" --quiet-after 30s
# Another pid than the sample's (which the history already knows), moved
# in with the report's own date, as from a download folder.
sed 's/35706/35799/' "$reports/python37-objc-fork-fontbakery-2982.crash" >"$work/partial.tmp"
touch -d 2020-07-17T14:40:47 "$work/partial.tmp"
mv "$work/partial.tmp" "$work/partial/Python-2020-07-17-144047.crash"
for _ in $(seq 50); do grep -q '"partial":true' "$work/p.out" && break; sleep 0.1; done
check "the renamed excerpt is a partial crash at once (not after --quiet-after 30s)" grep -q '"partial":true' "$work/p.out"
head -c 1500 "$reports/python39-rq-objc-fork-django-rq-574.ips" >"$work/partial/Python-2026-12-05-100000.ips"
for _ in $(seq 50); do grep -q '"kind":"waiting"' "$work/p.out" && break; sleep 0.1; done
check "the file written in place: watch says it waits for it" grep -q '"kind":"waiting"' "$work/p.out"
check "... once" [ "$(grep -c '"kind":"waiting"' "$work/p.out")" = 1 ]
stop_watch

echo "-- exit codes: usage errors are 2, failures 1, written paths printed"
run 2 completion tcsh
run 2 completion
run 2 history --page --json
run 2 history --out "$work/listing.html"
has "add --page"
run 2 history --limit 1 --all
run 2 status --pretty
run 2 notify --no-such-flag
run 1 doctor --html /no/such/dir/x.html
has "the folder /no/such/dir does not exist"
check "doctor --html made no folder" [ ! -e /no/such ]
run 1 history --page --out "$work/no/such/x.html"
has "does not exist"
check "history --page --out made no folder" [ ! -e "$work/no" ]
run 0 doctor --html "$work/check2.html"
has "wrote $work/check2.html"
printf 'not a database at all\n' >"$work/notadb.db"
run 1 history --db "$work/notadb.db"
has "is not a Forkwatch history database"
lacks "(26)"
run 0 watch --help
lacks "found no desktop"
run 0 --help
has "found no desktop"

echo "-- JSON: schema, unknown values left out, Ruby in doctor, trace show"
run 0 inspect --json "$reports/python39-rq-objc-fork-django-rq-574.ips"
has '{"schema":1,'
lacks '"pid":0'
lacks '"time":""'
run 0 doctor --json
has '"runtime":"python"'
run 0 status --json --pretty
has '"schema": 1'

echo "-- the terminal mode off macOS says in one line what it watches and how to choose"
code=0
timeout 3 "$fw" watch >"$work/tm.out" 2>"$work/tm.err" || code=$?
check "watch with the default folders: one line naming --reports-dir (exit $code on timeout)" \
  grep -q 'Watching macOS.s folders .*--reports-dir DIR (make run ARGS="--reports-dir DIR")' "$work/tm.out"
check "... and not said twice" bash -c "! grep -q 'does not exist yet' '$work/tm.err'"
check "make run passes ARGS to the app and watch" bash -c "make -n -C '$repo' run ARGS='--reports-dir /x' | grep -q 'watch --reports-dir /x'"

echo "-- trace sweep says what it did; login-item off removes only our autostart folder"
run 0 trace sweep
has "cleared"
had_autostart=no
[ -d "$HOME/.config/autostart" ] && had_autostart=yes
run 0 set login-item on
run 0 set login-item off
if [ "$had_autostart" = no ]; then
  check "login-item off removed the autostart folder Forkwatch created" [ ! -e "$HOME/.config/autostart" ]
fi

echo "-- uninstall refuses while watch runs, --stop stops it"
start_watch "$work/u.out" --reports-dir "$work/reports" --cores-dir ""
run 1 uninstall
has "pid $watch_pid"
has "nothing was removed"
run 0 uninstall --stop
has "stopped Forkwatch (pid $watch_pid)"
code=0
wait "$watch_pid" || code=$?
check "the stopped watch exited cleanly ($code)" [ "$code" = 0 ]

echo "== uninstall"
run 0 uninstall

if [ "$failures" -gt 0 ]; then
  echo "walkthrough: $failures step(s) failed"
  exit 1
fi
echo "walkthrough: all $step steps as documented"
