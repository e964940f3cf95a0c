package doctor

import (
	"context"
	"github.com/forkwatch/forkwatch/monitor/report"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// probeOptions points the probe at a temporary support folder.
func probeOptions(t *testing.T, goos string) Options {
	return Options{GOOS: goos, SupportDir: filepath.Join(t.TempDir(), "support"), ProbeTimeout: 20 * time.Second}
}

// leftovers lists forkwatch-probe-* folders in TMPDIR.
func leftovers(t *testing.T) []string {
	m, _ := filepath.Glob(filepath.Join(os.TempDir(), "forkwatch-probe-*"))
	return m
}

// The fake interpreter behaves as macOS does: a child forked from a
// multithreaded parent that looks up proxies is killed with the objc
// message, unless the variable was set when the parent started; setting
// it inside Python does not help. The probe tells the three apart.
func TestProbeFakeMacOSInterpreter(t *testing.T) {
	real := realPython(t)
	t.Setenv("TMPDIR", t.TempDir())
	t.Setenv(ForkSafetyVar, "YES") // the probe must not pass this process's value on
	py := fakeObjcPython(t, real)
	o := probeOptions(t, "darwin")

	res := Probe(context.Background(), o, py, "")
	t.Logf("%+v", res)
	w := res.Without
	if w.Outcome != Killed || w.Signal != "SIGABRT" {
		t.Errorf("without the variable: %+v, want killed by SIGABRT", w)
	}
	if !strings.Contains(w.Message, "may have been in progress in another thread when fork() was called") ||
		!strings.HasPrefix(w.Message, "objc["+strconv.Itoa(w.ChildPID)+"]: ") {
		t.Errorf("without: message %q (child %d)", w.Message, w.ChildPID)
	}
	if res.With.Outcome != Survived || res.With.Message != "" {
		t.Errorf("with the variable at start: %+v, want survived", res.With)
	}
	if res.Inside.Outcome != Killed {
		t.Errorf("variable set inside Python: %+v, want still killed", res.Inside)
	}
	if !strings.HasPrefix(res.Verdict, "affected:") || !strings.Contains(res.Verdict, "inside Python does not") {
		t.Errorf("verdict %q", res.Verdict)
	}

	// Apps that get YES from launchd now: the "without" run has it.
	res = Probe(context.Background(), o, py, "YES")
	if res.Without.Outcome != Survived || !strings.Contains(res.Verdict, "protected") {
		t.Errorf("launchd YES: %+v / %q", res.Without, res.Verdict)
	}
	// A wrong spelling in launchd does not protect.
	res = Probe(context.Background(), o, py, "1")
	if res.Without.Outcome != Killed {
		t.Errorf("launchd value 1: %+v, want killed", res.Without)
	}

	// The watcher marks the probe's crash reports (child or parent pid).
	mark := ProbeMarker(o.SupportDir)
	for _, c := range []struct {
		r    report.Report
		want bool
	}{
		{report.Report{PID: w.ChildPID, ParentPID: 1}, true},
		{report.Report{PID: 999999, ParentPID: w.ParentPID}, true},
		{report.Report{PID: 999998, ParentPID: 999997}, false},
		{report.Report{}, false},
	} {
		r := c.r
		mark(&r)
		if r.Probe != c.want {
			t.Errorf("report pid %d parent %d: probe %v, want %v", c.r.PID, c.r.ParentPID, r.Probe, c.want)
		}
	}
	mark(nil)
	if l := leftovers(t); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}

// On Linux the real python3's child survives both ways: no Objective-C.
func TestProbeRealPythonSurvivesOnLinux(t *testing.T) {
	real := realPython(t)
	t.Setenv("TMPDIR", t.TempDir())
	o := probeOptions(t, "linux")
	res := Probe(context.Background(), o, real, "")
	if res.Without.Outcome != Survived || res.With.Outcome != Survived || res.Inside.Outcome != Survived {
		t.Fatalf("real python on Linux: %+v", res)
	}
	if res.Verdict != "not affected: no Objective-C runtime" {
		t.Errorf("verdict %q", res.Verdict)
	}
	if res.Without.ChildPID == 0 || res.Without.ParentPID == 0 {
		t.Errorf("pids not recorded: %+v", res.Without)
	}
	if l := leftovers(t); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}

// A probe that hangs is killed with its whole process group at the limit.
func TestProbeTimeLimitKillsGroup(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", t.TempDir())
	marker := filepath.Join(dir, "grandchild-alive")
	py := filepath.Join(dir, "python3")
	os.WriteFile(py, []byte("#!/bin/sh\n(sleep 2; touch '"+marker+"') &\nsleep 30\n"), 0o755)
	o := probeOptions(t, "linux")
	o.ProbeTimeout = 300 * time.Millisecond
	o.fill()
	start := time.Now()
	run := probeRun(context.Background(), o, registry{dir: filepath.Join(o.SupportDir, "probes"), now: time.Now}, py, os.Environ(), "plain")
	if run.Outcome != Timeout {
		t.Fatalf("run: %+v", run)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v", took)
	}
	time.Sleep(2500 * time.Millisecond)
	if _, err := os.Stat(marker); err == nil {
		t.Error("a process of the timed-out probe outlived it")
	}
	if l := leftovers(t); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}

// An interpreter that cannot run the probe is an error, not a verdict.
func TestProbeBrokenInterpreter(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", t.TempDir())
	py := filepath.Join(dir, "python3")
	os.WriteFile(py, []byte("#!/bin/sh\necho 'SyntaxError: nope' >&2\nexit 1\n"), 0o755)
	res := Probe(context.Background(), probeOptions(t, "darwin"), py, "")
	if res.Without.Outcome != Error || !strings.Contains(res.Without.Detail, "SyntaxError") {
		t.Errorf("%+v", res.Without)
	}
	if !strings.HasPrefix(res.Verdict, "the probe could not run") {
		t.Errorf("verdict %q", res.Verdict)
	}
}

// Registrations expire: an old pid file no longer marks a report, and is
// removed.
func TestProbeMarkerExpires(t *testing.T) {
	support := t.TempDir()
	dir := filepath.Join(support, "probes")
	os.MkdirAll(dir, 0o700)
	old := filepath.Join(dir, "4242")
	os.WriteFile(old, []byte("{}\n"), 0o600)
	past := time.Now().Add(-ProbeTTL - time.Minute)
	os.Chtimes(old, past, past)
	os.WriteFile(filepath.Join(dir, "4343"), []byte("{}\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)
	mark := ProbeMarker(support)
	r := report.Report{PID: 4242}
	mark(&r)
	if r.Probe {
		t.Error("an expired registration marked a report")
	}
	if _, err := os.Stat(old); err == nil {
		t.Error("expired registration not removed")
	}
	r = report.Report{PID: 1, ParentPID: 4343}
	mark(&r)
	if !r.Probe {
		t.Error("a fresh parent registration did not mark the report")
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Error("a file that is not a pid was removed")
	}
}

// End to end through Run: --probe on the chosen interpreter only.
func TestRunWithProbeChoosesInterpreters(t *testing.T) {
	real := realPython(t)
	m := newFakeMac(t, "sysctl", "launchctl")
	py := fakeObjcPython(t, real)
	other := filepath.Join(m.home, "bin", "python3")
	m.fakePython(t, other, "3.9.0", "fork", 0)
	o := m.options("darwin")
	o.PATH = filepath.Dir(py) + ":" + filepath.Dir(other)
	o.Probe = true
	o.ProbePythons = []string{py}
	rep := runDoctor(t, o)
	in := find(rep, py)
	if in == nil || in.Probe == nil {
		t.Fatalf("fake objc python not probed: %+v", in)
	}
	if in.Probe.Without.Outcome != Killed || in.Probe.With.Outcome != Survived {
		t.Errorf("probe: %+v", in.Probe)
	}
	if find(rep, other).Probe != nil {
		t.Error("an interpreter not chosen was probed")
	}
	if l := leftovers(t); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}

// The probe interpreter starts with no core file allowed: Go lowers the
// soft RLIMIT_CORE before exec (and restores it after).
func TestProbeStartsWithCoreLimitZero(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil || lim.Max == 0 {
		t.Skip("hard core limit is 0 here: nothing to lower")
	}
	raised := unix.Rlimit{Cur: lim.Max, Max: lim.Max}
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &raised); err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { unix.Setrlimit(unix.RLIMIT_CORE, &lim) })
	dir := t.TempDir()
	t.Setenv("TMPDIR", t.TempDir())
	py := filepath.Join(dir, "python3")
	// Reports the limit it was started with as the child's exit status:
	// 0 reads as survived, anything else as an error.
	os.WriteFile(py, []byte("#!/bin/sh\nc=$(ulimit -c)\n[ \"$c\" = unlimited ] && c=99\necho \"FWPROBE exit $c\"\n"), 0o755)
	res := Probe(context.Background(), probeOptions(t, "linux"), py, "")
	if res.Without.Outcome != Survived {
		t.Errorf("the probe started with a core limit above 0: %+v", res.Without)
	}
	var after unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_CORE, &after)
	if after.Cur != lim.Max {
		t.Errorf("core limit not restored: %d, want %d", after.Cur, lim.Max)
	}
}
