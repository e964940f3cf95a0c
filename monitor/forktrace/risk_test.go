package forktrace

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
	"github.com/fsnotify/fsnotify"
)

// TestMatchesNeedsParentAndTime (issue 28, item 10): a record of zeros
// (parent pid 0, time 0), or with parent 1, never names a crash's fork
// site, and a report without a parent or a time matches no record; a full
// record still matches its report.
func TestMatchesNeedsParentAndTime(t *testing.T) {
	crash := time.Date(2026, 5, 14, 15, 5, 47, 0, time.UTC)
	good := Record{PID: 4242, PPID: 4241, Time: float64(crash.Add(-time.Minute).Unix())}
	full := report.Report{PID: 4242, ParentPID: 4241, Time: crash.Format(time.RFC3339)}
	cases := []struct {
		name string
		rec  func(*Record)
		rep  func(*report.Report)
		want bool
	}{
		{"full record, full report", nil, nil, true},
		{"report's parent is launchd (orphan)", nil, func(r *report.Report) { r.ParentPID = 1 }, true},
		{"record of zeros", func(r *Record) { r.PPID, r.Time = 0, 0 }, nil, false},
		{"record without a parent", func(r *Record) { r.PPID = 0 }, nil, false},
		{"record with parent 1", func(r *Record) { r.PPID = 1 }, func(r *report.Report) { r.ParentPID = 1 }, false},
		{"record without a time", func(r *Record) { r.Time = 0 }, nil, false},
		{"record with a negative time", func(r *Record) { r.Time = -5 }, nil, false},
		{"report without a parent", nil, func(r *report.Report) { r.ParentPID = 0 }, false},
		{"report without a time", nil, func(r *report.Report) { r.Time = "" }, false},
		{"report with a bad time", nil, func(r *report.Report) { r.Time = "yesterday" }, false},
		{"zeros against a report without a parent", func(r *Record) { r.PPID, r.Time = 0, 0 }, func(r *report.Report) { r.ParentPID = 0 }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, rep := good, full
			if c.rec != nil {
				c.rec(&rec)
			}
			if c.rep != nil {
				c.rep(&rep)
			}
			if got := rec.Matches(&rep); got != c.want {
				t.Errorf("Matches = %v, want %v (record %+v, report parent %d time %q)", got, c.want, rec, rep.ParentPID, rep.Time)
			}
		})
	}
	// Through the Enricher, as the watcher runs it: a zero record in the
	// crash's slot leaves the report alone.
	dir := t.TempDir()
	writeRecord(t, dir, &Record{PID: 4242, Stack: []report.ForkFrame{{File: "/x/app.py", Line: 3, Function: "f"}}})
	r := full
	Enricher(dir)(&r)
	if r.ForkSite != nil {
		t.Errorf("a record of zeros named the fork site: %+v", r.ForkSite)
	}
}

// TestJudge: the verdicts of issue 30's rule.
func TestJudge(t *testing.T) {
	now := time.Now()
	fresh, old := float64(now.Add(-100*time.Millisecond).UnixNano())/1e9, float64(now.Add(-2*time.Second).UnixNano())/1e9
	alive := func(int) bool { return true }
	gone := func(int) bool { return false }
	for _, c := range []struct {
		rec   Record
		alive func(int) bool
		want  Verdict
	}{
		{Record{Threaded: false, Time: old}, alive, Safe},
		{Record{Threaded: true, End: "exec", Time: old}, alive, Safe},
		{Record{Threaded: true, End: "spawn", Time: old}, gone, Safe},
		{Record{Threaded: true, End: "exit", Time: fresh}, alive, Risky},
		{Record{Threaded: true, Time: fresh}, gone, Risky},
		{Record{Threaded: true, Time: old}, alive, Risky},
		{Record{Threaded: true, Time: fresh}, alive, Pending},
		{Record{Threaded: true, Time: fresh}, nil, Pending},
	} {
		if got, why := c.rec.Judge(now, c.alive); got != c.want {
			t.Errorf("%+v: %v (%s), want %v", c.rec, got, why, c.want)
		}
	}
}

// TestRiskyForks runs a real program under the tracer: forks from an
// unthreaded process, 20 forks without exec from a threaded one, a fork
// that execs, and a subprocess with a preexec_fn (a fork made in C). The
// records say threaded and how each child ended; RiskyForks lists the
// threaded forks without exec and nothing else; the first threaded fork
// at its site, and only it, was written with a real write, which a watch
// on the record file itself sees (writes through the mapping raise no
// event, on Linux as with kqueue on macOS).
func TestRiskyForks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs interpreters")
	}
	eachTracedPython(t, func(t *testing.T, py, dir, spool, site string) {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := w.Add(RingPath(spool)); err != nil {
			t.Fatal(err)
		}
		script, _ := filepath.Abs(filepath.Join("testdata", "risky.py"))
		// An unthreaded run first: its forks raise no file event.
		run := func(args ...string) map[string][]int {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, py, append([]string{script, site}, args...)...).Output()
			if err != nil {
				t.Fatalf("risky.py: %v", err)
			}
			var pids map[string][]int
			if err := json.Unmarshal(out, &pids); err != nil {
				t.Fatalf("risky.py printed %q", out)
			}
			return pids
		}
		plainOnly := run("plain-only")
		if n := drain(w, 300*time.Millisecond); n != 0 {
			t.Errorf("an unthreaded fork raised %d file events on the record file", n)
		}
		pids := run()
		if n := drain(w, 2*time.Second); n == 0 {
			t.Error("the first threaded fork raised no file event on the record file")
		}
		if runtime.GOOS == "linux" && (len(pids["record_fds"]) != 0 || len(pids["mapped"]) != 1 || pids["mapped"][0] != 1) {
			t.Errorf("descriptors kept on the record file: %v; mapped: %v", pids["record_fds"], pids["mapped"])
		}
		rec := func(pid int) *Record {
			r, err := Lookup(spool, pid)
			if err != nil {
				t.Fatalf("pid %d: %v", pid, err)
			}
			return r
		}
		for _, pid := range append(plainOnly["plain"], pids["plain"]...) {
			if r := rec(pid); r.Threaded || r.ThreadedHow != "threading.active_count" && r.ThreadedHow != "_thread._count" || r.Wake {
				t.Errorf("unthreaded fork %d: threaded %v how %q wake %v", pid, r.Threaded, r.ThreadedHow, r.Wake)
			}
		}
		for i, pid := range pids["threaded"] {
			r := rec(pid)
			if !r.Threaded || r.Threads != 2 || r.End != "exit" || r.Wake != (i == 0) {
				t.Errorf("threaded fork #%d (%d): threaded %v threads %d end %q wake %v", i, pid, r.Threaded, r.Threads, r.End, r.Wake)
			}
			if i == 0 && (len(r.ThreadNames) != 2 || r.ThreadNames[1] != "poller") {
				t.Errorf("the first threaded fork's thread names: %q", r.ThreadNames)
			}
			if i > 0 && len(r.ThreadNames) != 0 {
				t.Errorf("thread names gathered for fork #%d: %q", i, r.ThreadNames)
			}
			if s, ok := r.ForkSite(); !ok || s.Frame.Line != siteLines(t, script)["fork_exit"] {
				t.Errorf("threaded fork #%d: site %+v", i, s)
			}
		}
		if r := rec(pids["exec"][0]); !r.Threaded || r.End != "exec" {
			t.Errorf("fork then exec: threaded %v end %q", r.Threaded, r.End)
		}
		// A fork made in C: the child writes its own record. Its exec,
		// made in C too, is not seen: Python code (the preexec_fn) ran in
		// the child of a threaded parent, and it is judged risky, as
		// CPython's documentation warns ("not safe to use in the
		// presence of threads", subprocess.Popen).
		if r := rec(pids["c_fork"][0]); !r.Threaded || r.End != "" || r.PPID <= 1 {
			t.Errorf("subprocess with preexec_fn: threaded %v end %q ppid %d", r.Threaded, r.End, r.PPID)
		}
		risky, next, err := RiskyForks(spool, time.Now(), pidAlive)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]bool{pids["c_fork"][0]: true}
		for _, pid := range pids["threaded"] {
			want[pid] = true
		}
		for _, r := range risky {
			if !want[r.PID] {
				t.Errorf("judged risky: %d (end %q, threaded %v)", r.PID, r.End, r.Threaded)
			}
			delete(want, r.PID)
		}
		if len(want) != 0 || next != 0 {
			t.Errorf("not judged risky: %v; next %v", want, next)
		}
		keys := map[string]bool{}
		for _, r := range risky {
			if r.PID != pids["c_fork"][0] {
				keys[r.RiskKey()] = true
			}
		}
		if len(keys) != 1 {
			t.Errorf("%d risk keys for one program, folder and site", len(keys))
		}
	})
}

// drain counts the watcher's events until none comes for quiet.
func drain(w *fsnotify.Watcher, quiet time.Duration) int {
	n := 0
	for {
		select {
		case ev := <-w.Events:
			if ev.Has(fsnotify.Write) {
				n++
			}
		case <-w.Errors:
		case <-time.After(quiet):
			return n
		}
	}
}

// TestForkWarningNamesTheCaller: Python 3.12+ warns (DeprecationWarning)
// when a threaded process forks, naming the line that called os.fork; the
// tracer must not become that line (a wrapper around os.fork would, and
// the warning, shown by default for __main__, would name the tracer).
func TestForkWarningNamesTheCaller(t *testing.T) {
	if testing.Short() {
		t.Skip("runs interpreters")
	}
	ran := false
	for _, py := range testPythons(t) {
		if maj, min := pythonVersion(t, py); maj < 3 || maj == 3 && min < 12 {
			continue
		}
		ran = true
		dir := t.TempDir()
		spool, site := filepath.Join(dir, "spool"), filepath.Join(dir, "site")
		if err := CreateRing(spool); err != nil {
			t.Fatal(err)
		}
		installInto(t, site, spool)
		script, _ := filepath.Abs(filepath.Join("testdata", "warn.py"))
		out, err := exec.Command(py, script, site).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", py, err, out)
		}
		want := fmt.Sprintf("%s:%d: DeprecationWarning", script, siteLinesMark(t, script, "# WARN-LINE"))
		if !strings.Contains(string(out), want) || strings.Contains(string(out), ModuleName) {
			t.Errorf("%s: the warning does not name the caller (want %q):\n%s", py, want, out)
		}
	}
	if !ran {
		t.Skip("no Python 3.12 or later here")
	}
}

// siteLinesMark is the line of script that holds mark.
func siteLinesMark(t *testing.T, script, mark string) int {
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, mark) {
			return i + 1
		}
	}
	t.Fatalf("no %q in %s", mark, script)
	return 0
}

// TestThreadedOnMacOS runs the tracer's macOS branch with a stand-in for
// pthread_is_threaded_np (no Mac here: a stand-in _ctypes provides it): it
// is looked up at the first fork, asked at each fork while it says no, and
// never again once it says yes
// (objc4 reads the same function, which stays true once the process has
// started a thread: macos-facts.md, "The fork check's precondition").
func TestThreadedOnMacOS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs interpreters")
	}
	ran := false
	for _, py := range testPythons(t) {
		if maj, min := pythonVersion(t, py); maj < 3 || maj == 3 && min < 13 {
			continue // the mapping itself needs the real _ctypes before 3.13
		}
		ran = true
		dir := t.TempDir()
		spool, site := filepath.Join(dir, "spool"), filepath.Join(dir, "site")
		if err := CreateRing(spool); err != nil {
			t.Fatal(err)
		}
		installInto(t, site, spool)
		script, _ := filepath.Abs(filepath.Join("testdata", "darwin.py"))
		out, err := exec.Command(py, script, site).Output()
		if err != nil {
			t.Fatalf("%s: %v", py, err)
		}
		var res struct {
			Pids  []int `json:"pids"`
			Calls int   `json:"calls"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("darwin.py printed %q", out)
		}
		if res.Calls != 3 {
			t.Errorf("%s: pthread_is_threaded_np asked %d times for 5 forks, want 3 (no, no, yes, then never again)", py, res.Calls)
		}
		for i, pid := range res.Pids {
			r, err := Lookup(spool, pid)
			if err != nil {
				t.Fatalf("fork %d: %v", i, err)
			}
			if r.Threaded != (i >= 2) || r.ThreadedHow != "pthread_is_threaded_np" || r.Threads != 1 {
				t.Errorf("%s fork %d: threaded %v how %q threads %d", py, i, r.Threaded, r.ThreadedHow, r.Threads)
			}
		}
	}
	if !ran {
		t.Skip("no Python 3.13 or later here")
	}
}
