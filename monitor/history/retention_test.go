package history

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// TestRetentionByRecordedTime: the real sample reports (dated 2012-2026,
// most of them more than a year before the clock) recorded today survive
// every restart for the whole retention, keep their own time for display,
// and go only once Forkwatch recorded them more than MaxAge ago; the
// pruning is logged, counted in the prunes table and passed to OnPrune
// (issue 32: `watch` printed six crashes from the sample reports, and
// after a restart `history` listed two).
func TestRetentionByRecordedTime(t *testing.T) {
	dir := filepath.Join("..", "report", "testdata", "reports")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var heard []Pruned
	opts := Options{PruneEvery: -1, Location: time.UTC, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	opts.OnPrune = func(p Pruned) { mu.Lock(); heard = append(heard, p); mu.Unlock() }
	path := filepath.Join(t.TempDir(), "history.db")
	d, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	old, ids := 0, map[string]string{} // id -> the report's own time
	for _, e := range entries {
		r, _ := report.ReadFile(filepath.Join(dir, e.Name()))
		if r == nil || r.ID == "" || ids[r.ID] != "" { // excerpts come back partial, with an error
			continue
		}
		if at := crashTime(r, now); now.Sub(at) > DefaultMaxAge {
			old++
		}
		ids[r.ID] = r.Time
		d.MarkSeen(r, now)
	}
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if old < 10 {
		t.Fatalf("only %d of %d sample reports are dated more than a year ago: the test proves nothing", old, len(ids))
	}
	count := func(d *DB) int {
		cs, err := d.Crashes(context.Background(), time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if want := crashTime(&c.Report, c.Seen); !c.At.Equal(want) || (ids[c.ID] != "" && c.Report.Time != ids[c.ID]) {
				t.Errorf("%s: shown at %v (report says %q)", c.ID, c.At, c.Report.Time)
			}
		}
		return len(cs)
	}
	// Restarts over the year: nothing goes.
	for _, later := range []time.Duration{0, time.Hour, 24 * time.Hour, 100 * 24 * time.Hour, DefaultMaxAge - time.Hour} {
		mu.Lock()
		now = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC).Add(later)
		mu.Unlock()
		d, err := Open(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		n, err := d.Prune(context.Background())
		if err != nil || n != 0 {
			t.Errorf("%v after recording: pruned %d (%v), want 0", later, n, err)
		}
		if got := count(d); got != len(ids) {
			t.Errorf("%v after recording: %d of %d crashes left", later, got, len(ids))
		}
		d.Close()
	}
	if len(heard) != 0 {
		t.Errorf("OnPrune heard %+v with nothing pruned", heard)
	}
	// Recorded more than the retention ago: they go, and it is said.
	mu.Lock()
	now = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC).Add(DefaultMaxAge + time.Hour)
	mu.Unlock()
	d, err = Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var fresh report.Report = report.Report{ID: "incident:fresh", Process: "python3", Time: "2019-01-01T00:00:00Z", Cause: report.CauseCrash}
	d.MarkSeen(&fresh, now)
	d.Save()
	n, err := d.Prune(context.Background())
	if err != nil || n != len(ids) {
		t.Fatalf("pruned %d (%v), want %d", n, err, len(ids))
	}
	if got := count(d); got != 1 {
		t.Errorf("%d crashes left, want the one recorded today", got)
	}
	total, last, err := d.PrunedTotal(context.Background())
	if err != nil || total != len(ids) || last.Crashes != len(ids) || !last.Time.Equal(now.Truncate(time.Second)) {
		t.Errorf("PrunedTotal = %d %+v %v", total, last, err)
	}
	if len(heard) != 1 || heard[0].Crashes != len(ids) {
		t.Errorf("OnPrune heard %+v", heard)
	}
	var names []string
	for id := range ids {
		names = append(names, id)
	}
	sort.Strings(names)
	t.Logf("%d sample reports (%d dated more than a year ago): %s", len(ids), old, strings.Join(names[:3], ", "))
}
