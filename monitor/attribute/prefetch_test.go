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

// TestPrefetch: the parent read Prefetch starts is the one Enrich uses
// (one read of the parent, not two), and the report comes out as it does
// without it; a read started for another pid, or dropped by Prefetch(0)
// (a report whose start names no parent), is not used.
func TestPrefetch(t *testing.T) {
	py := realPython(t)
	root := t.TempDir()
	parent := startParent(t, py, root, "shop/.venv/bin/gunicorn", root, "app:app")
	pid := parent.Process.Pid
	data := retarget(t, "python37-objc-fork-fontbakery-2982.crash", 99999, pid, "Python", time.Now())
	base, err := report.Parse(data)
	if err != nil && base == nil {
		t.Fatal(err)
	}
	if got := report.PeekParent(data); got != pid {
		t.Fatalf("PeekParent = %d, want %d", got, pid)
	}
	enrich := func(a *Attributor) string {
		r := *base
		r.Evidence = append([]string(nil), base.Evidence...)
		a.Enrich(&r)
		js, _ := json.Marshal(&r)
		return string(js)
	}
	want := enrich(NewAttributor())
	if want == "" || base.ParentPID != pid {
		t.Fatal("no report")
	}
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
