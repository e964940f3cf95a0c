package attribute

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// countingAttributor is NewAttributor with its process reads counted by pid.
func countingAttributor(reads map[int]*atomic.Int32) *Attributor {
	a := NewAttributor()
	real := a.read
	a.read = func(pid int) (*liveProc, error) {
		if c := reads[pid]; c != nil {
			c.Add(1)
		}
		return real(pid)
	}
	return a
}

// prefetchFixture starts a live parent (a gunicorn in a venv) and gives its
// pid, a function that attributes a copy of a real report retargeted to it
// with the Attributor given and returns its JSON, and that JSON as an
// Attributor without prefetch gives it.
func prefetchFixture(t *testing.T) (pid int, enrich func(*Attributor) string, want string) {
	t.Helper()
	py := realPython(t)
	root := t.TempDir()
	parent := startParent(t, py, root, "shop/.venv/bin/gunicorn", root, "app:app")
	pid = parent.Process.Pid
	data := retarget(t, "python37-objc-fork-fontbakery-2982.crash", 99999, pid, "Python", time.Now())
	base, err := report.Parse(data)
	if err != nil && base == nil {
		t.Fatal(err)
	}
	if got := report.PeekParent(data); got != pid {
		t.Fatalf("PeekParent = %d, want %d", got, pid)
	}
	enrich = func(a *Attributor) string {
		r := *base
		r.Evidence = append([]string(nil), base.Evidence...)
		a.Enrich(&r)
		js, _ := json.Marshal(&r)
		return string(js)
	}
	want = enrich(NewAttributor())
	if want == "" || base.ParentPID != pid {
		t.Fatal("no report")
	}
	return pid, enrich, want
}

// TestPrefetch: the parent read Prefetch starts is the one Enrich uses
// (one read of the parent, not two), and the report comes out as it does
// without it; a read started for another pid, or dropped by Prefetch(0)
// (a report whose start names no parent), is not used.
func TestPrefetch(t *testing.T) {
	pid, enrich, want := prefetchFixture(t)
	for _, tc := range []struct {
		name      string
		prefetch  []int
		wantReads int32
	}{
		{"prefetched", []int{pid}, 1},
		{"none", nil, 1},
		{"another parent", []int{pid + 100000}, 1},
		{"dropped by a report without parent", []int{pid, 0}, 2},
		{"replaced", []int{pid, pid + 100000}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reads := map[int]*atomic.Int32{pid: new(atomic.Int32)}
			a := countingAttributor(reads)
			for _, p := range tc.prefetch {
				a.Prefetch(p)
			}
			if tc.name == "dropped by a report without parent" || tc.name == "replaced" {
				// The dropped read may still be running: let it finish,
				// so that the count says what Enrich read.
				time.Sleep(50 * time.Millisecond)
			}
			if got := enrich(a); got != want {
				t.Errorf("report with prefetch %v:\n%s\nwithout:\n%s", tc.prefetch, got, want)
			}
			if n := reads[pid].Load(); n != tc.wantReads {
				t.Errorf("parent read %d times, want %d", n, tc.wantReads)
			}
			// A second report of the same parent reads it afresh: the
			// prefetched read is used once.
			before := reads[pid].Load()
			enrich(a)
			if reads[pid].Load() != before+1 {
				t.Errorf("a second report did not read the parent afresh")
			}
		})
	}
}

// TestPrefetchNotStartedYet: a read registered with StartPrefetch whose
// goroutine has not started when Enrich asks for it is made by Enrich
// itself, at once (no waiting for a thread to wake), and the late
// goroutine then reads nothing; one that has started is waited for, not
// made twice.
func TestPrefetchNotStartedYet(t *testing.T) {
	pid, enrich, want := prefetchFixture(t)
	for _, started := range []bool{false, true} {
		reads := map[int]*atomic.Int32{pid: new(atomic.Int32)}
		a := countingAttributor(reads)
		run := a.StartPrefetch(pid)
		if run == nil {
			t.Fatal("no read to run")
		}
		if started {
			run()
		}
		done := make(chan string)
		go func() { done <- enrich(a) }()
		select {
		case got := <-done:
			if got != want {
				t.Errorf("started %v: report\n%s\nwant\n%s", started, got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("started %v: Enrich waits for a read nobody runs", started)
		}
		run() // late, or a second time: reads nothing
		if n := reads[pid].Load(); n != 1 {
			t.Errorf("started %v: parent read %d times, want 1", started, n)
		}
	}
}
