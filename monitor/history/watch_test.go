package history

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// realReports are real, complete crash reports from public trackers (see
// monitor/report/testdata/MANIFEST.md; the fork-safety ones there are excerpts,
// which the watcher rightly waits on).
var realReports = []string{
	"monerod-sigbus-fork-child-monero-gui-4380.ips",
	"python313-duckdb-segv-chunkhound.ips",
	"itubedownloader-segv-10.8.crash",
}

func copyReport(t testing.TB, name, dir, as string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "report", "testdata", "reports", name))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(dir), "."+as)
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, as)
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// runWatcher runs the real watcher with the database as its Store until
// want crash events arrived (or quiet for settle after them), and returns
// the crash events.
func runWatcher(t *testing.T, d *DB, reports string, want int, act func()) []monitor.Event {
	t.Helper()
	w, err := monitor.NewWatcher(monitor.Config{ReportDirs: []string{reports}, State: d, QuietAfter: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	evs := make(chan monitor.Event, 16)
	done := make(chan error, 1)
	go func() {
		done <- w.Run(ctx, func(ev monitor.Event) {
			t.Logf("event %s %s %s", ev.Kind, ev.Path, ev.Err)
			if ev.Kind == monitor.KindCrash {
				evs <- ev
			}
		})
	}()
	time.Sleep(200 * time.Millisecond)
	if act != nil {
		act()
	}
	var got []monitor.Event
	deadline := time.After(10 * time.Second)
	for len(got) < want {
		select {
		case ev := <-evs:
			got = append(got, ev)
		case <-deadline:
			t.Fatalf("%d of %d crash events", len(got), want)
		}
	}
	// Nothing more should come.
	select {
	case ev := <-evs:
		t.Errorf("unexpected event %+v", ev.Report)
	case <-time.After(1500 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return got
}

// The real watcher with the database as its memory: crashes are recorded
// and announced once; after a restart, and after macOS moves a report to
// Retired/, nothing is announced again.
func TestWatcherWithDB(t *testing.T) {
	dir := t.TempDir()
	reports := filepath.Join(dir, "DiagnosticReports")
	os.MkdirAll(filepath.Join(reports, "Retired"), 0o755)
	path := filepath.Join(dir, "history.db")
	now := time.Now()
	opts := Options{PruneEvery: -1, Now: func() time.Time { return now }}

	d, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	got := runWatcher(t, d, reports, len(realReports), func() {
		for i, name := range realReports {
			paths = append(paths, copyReport(t, name, reports, fmt.Sprintf("Proc%d-2026-11-20-1000%d%s", i, i, filepath.Ext(name))))
		}
	})
	var causes []string
	for _, ev := range got {
		causes = append(causes, ev.Report.Cause)
	}
	sort.Strings(causes)
	if want := []string{"crash", "crash", "fork-child"}; len(causes) != 3 || causes[0] != want[0] || causes[1] != want[1] || causes[2] != want[2] {
		t.Errorf("causes %v", causes)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart: the known reports are not read or announced again; one is
	// retired (moved), which must not announce it either.
	d, err = Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.FirstRun() {
		t.Error("second run counted as first")
	}
	runWatcher(t, d, reports, 0, func() {
		if err := os.Rename(paths[0], filepath.Join(reports, "Retired", filepath.Base(paths[0]))); err != nil {
			t.Fatal(err)
		}
	})
	days, err := d.ByDay(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, x := range days {
		total += x.Total
	}
	if total != 3 {
		t.Errorf("%d crashes recorded, want 3 (%+v)", total, days)
	}
	known := d.KnownPaths()
	if known[paths[0]] || !known[filepath.Join(reports, "Retired", filepath.Base(paths[0]))] {
		t.Errorf("known paths after the move: %v", known)
	}
	if rec := d.Recent(); len(rec) != 3 {
		t.Errorf("Recent: %d", len(rec))
	}
}

// TestWatcherSeenOnce: the database's answer whether a report's ID is
// known keeps a crash to one announcement. The same real report dropped
// under three names, and again after a restart, is announced once.
func TestWatcherSeenOnce(t *testing.T) {
	dir := t.TempDir()
	reports := filepath.Join(dir, "DiagnosticReports")
	os.MkdirAll(reports, 0o755)
	path := filepath.Join(dir, "history.db")
	opts := Options{PruneEvery: -1}
	d, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	got := runWatcher(t, d, reports, 1, func() {
		for i := 0; i < 3; i++ {
			copyReport(t, "python313-duckdb-segv-chunkhound.ips", reports, fmt.Sprintf("Python-2026-12-05-1000%d.ips", i))
			time.Sleep(20 * time.Millisecond)
		}
	})
	if len(got) != 1 {
		t.Fatalf("%d announcements", len(got))
	}
	d.Close()
	d, err = Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	runWatcher(t, d, reports, 0, func() {
		copyReport(t, "python313-duckdb-segv-chunkhound.ips", reports, "Python-2026-12-05-10009.ips")
	})
}

// seenOrder is a DB whose Seen notes when it was asked.
type seenOrder struct {
	*DB
	asked chan string
}

func (s seenOrder) Seen(id string) bool {
	s.asked <- "seen " + id
	return s.DB.Seen(id)
}

// TestWatcherPrefetchBeforeParse: for a new report the watcher runs the
// read Config.Prefetch returned for the parent pid the report's start
// names, once, on its own goroutine, before it asks the store whether the
// report's ID is known (after the parse) and before Enrich. A Prefetch
// that returns nil runs nothing.
func TestWatcherPrefetchBeforeParse(t *testing.T) {
	dir := t.TempDir()
	reports := filepath.Join(dir, "DiagnosticReports")
	os.MkdirAll(reports, 0o755)
	d, err := Open(filepath.Join(dir, "history.db"), Options{PruneEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	steps := make(chan string, 16)
	st := seenOrder{DB: d, asked: steps}
	cfg := monitor.Config{ReportDirs: []string{reports}, State: st, QuietAfter: time.Second}
	watcherGoroutine := make(chan uint64, 1)
	readDone := make(chan struct{})
	cfg.Prefetch = []func(int) func(){
		func(pid int) func() {
			watcherGoroutine <- goid()
			return func() {
				defer close(readDone)
				if goid() == <-watcherGoroutine {
					steps <- "read on the watcher's goroutine"
				}
				steps <- fmt.Sprintf("read %d", pid)
			}
		},
		func(int) func() { return nil },
	}
	cfg.Enrich = []func(*report.Report){func(*report.Report) { steps <- "enrich" }}
	w, err := monitor.NewWatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	crashes := make(chan struct{}, 4)
	go func() {
		done <- w.Run(ctx, func(ev monitor.Event) {
			if ev.Kind == monitor.KindCrash {
				crashes <- struct{}{}
			}
		})
	}()
	time.Sleep(200 * time.Millisecond)
	copyReport(t, "python313-duckdb-segv-chunkhound.ips", reports, "Python-2026-12-05-100000.ips")
	select {
	case <-crashes:
	case <-time.After(10 * time.Second):
		t.Fatal("no crash event")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case <-readDone: // the read's goroutine has sent its step
	case <-time.After(10 * time.Second):
		t.Fatal("the read never ran")
	}
	close(steps)
	var got []string
	for s := range steps {
		got = append(got, s)
	}
	// The read, on the watcher's goroutine, then the store's question,
	// then Enrich.
	want := []string{"read on the watcher's goroutine", "read 28565", "seen incident:A357AD50-B0BC-47E5-98C2-CEFFD4342928", "enrich"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("steps %q, want %q", got, want)
	}
}

// goid is the calling goroutine's id, from its stack trace's first line.
func goid() uint64 {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	f := strings.Fields(string(b))
	n, _ := strconv.ParseUint(f[1], 10, 64)
	return n
}
