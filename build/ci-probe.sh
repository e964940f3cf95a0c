#!/usr/bin/env bash
# The one end-to-end check on real macOS, from fork() to the classified
# report (issue 12). Run by the macOS workflow: `bash build/ci-probe.sh`.
#
#  1. builds forkwatch;
#  2. starts `forkwatch watch --json` in the background on a temporary
#     folder plus the real ~/Library/Logs/DiagnosticReports, where
#     ReportCrash writes the reports of this user's processes;
#  3. runs `forkwatch doctor --probe --json --python PYTHON` on the runner's
#     python3: a throwaway parent with a second thread forks, and the child
#     looks up the system proxies (urllib.request.getproxies, via _scproxy);
#  4. fails unless the child was killed without the variable, survived with
#     OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES, and the watcher printed the
#     probe child's genuine crash report with "probe":true.
#
# Environment: FORKWATCH_CI_PYTHON (default: python3 on PATH),
# FORKWATCH_CI_WAIT (seconds to wait for the report, default 120).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
python=${FORKWATCH_CI_PYTHON:-$(command -v python3)}
wait_for=${FORKWATCH_CI_WAIT:-120}
work=$(mktemp -d "${TMPDIR:-/tmp}/forkwatch-ci-probe.XXXXXX")
watch_pid=""

cleanup() {
	if [ -n "$watch_pid" ]; then kill "$watch_pid" 2>/dev/null || true; wait "$watch_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

show() {
	echo "--- doctor:"; cat "$work/doctor.jsonl" 2>/dev/null || true
	echo "--- doctor stderr:"; cat "$work/doctor.err" 2>/dev/null || true
	echo "--- watcher:"; cat "$work/watch.jsonl" 2>/dev/null || true
	echo "--- watcher stderr:"; tail -n 50 "$work/watch.err" 2>/dev/null || true
	echo "--- newest reports:"; ls -lt "$HOME/Library/Logs/DiagnosticReports" 2>/dev/null | head -n 10 || true
}
fail() { echo "ci-probe: FAIL: $*" >&2; show >&2; exit 1; }

echo "ci-probe: building forkwatch"
(cd "$root" && go build -o "$work/forkwatch" ./app)

reports="$HOME/Library/Logs/DiagnosticReports"
mkdir -p "$work/reports" "$work/cores" "$reports"
"$work/forkwatch" watch --json --reports-dir "$work/reports" --reports-dir "$reports" \
	--cores-dir "$work/cores" --state "$work/state.json" >"$work/watch.jsonl" 2>"$work/watch.err" &
watch_pid=$!
sleep 3 # the watcher's first scan of what is already there
kill -0 "$watch_pid" 2>/dev/null || fail "the watcher exited at start"

echo "ci-probe: probing $python ($("$python" -V 2>&1))"
"$work/forkwatch" doctor --probe --json --python "$python" >"$work/doctor.jsonl" 2>"$work/doctor.err" ||
	fail "forkwatch doctor --probe failed"

# The probe's verdicts, and the child pid to look for.
child=$("$python" - "$work/doctor.jsonl" "$python" <<'EOF'
import json, os, sys
path, py = sys.argv[1], os.path.realpath(sys.argv[2])
for line in open(path):
    d = json.loads(line)
    if d.get("kind") != "interpreter" or "probe" not in d:
        continue
    if os.path.realpath(d["path"]) != py and d["real_path"] != py and py not in [os.path.realpath(a) for a in d.get("aliases", [])]:
        continue
    w, y = d["probe"]["without"], d["probe"]["with"]
    if w["outcome"] != "killed":
        sys.exit("without the variable the child was not killed: %r" % (w,))
    if y["outcome"] != "survived":
        sys.exit("with OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES the child did not survive: %r" % (y,))
    print(w["child_pid"])
    sys.exit(0)
sys.exit("no probe result for " + py)
EOF
) || fail "probe verdicts"
echo "ci-probe: without the variable child $child was killed; with it, it survived"

echo "ci-probe: waiting up to ${wait_for}s for the watcher to report pid $child as a probe result"
deadline=$((SECONDS + wait_for))
while [ "$SECONDS" -lt "$deadline" ]; do
	if "$python" - "$work/watch.jsonl" "$child" <<'EOF'
import json, sys
path, child = sys.argv[1], int(sys.argv[2])
for line in open(path):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("kind") == "crash" and d.get("pid") == child:
        if not d.get("probe"):
            sys.exit("the probe child's report is not marked as a probe result: %s" % line.strip())
        print("ci-probe: report %s: cause %s, probe %s" % (d.get("path"), d.get("cause"), d.get("probe")))
        sys.exit(0)
sys.exit(1)
EOF
	then
		echo "ci-probe: PASS"
		exit 0
	fi
	kill -0 "$watch_pid" 2>/dev/null || fail "the watcher exited"
	sleep 2
done
fail "no crash report for the probe child $child within ${wait_for}s"
