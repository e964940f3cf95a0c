package service

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/forktrace"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// writeRecord writes a threaded fork's record into the record file with a
// real write (as the tracer writes the first one per site), with the
// child's end mark when end is not "".
func writeRecord(t *testing.T, spool string, pid, line int, end string, when time.Time) {
	t.Helper()
	rec := forktrace.Record{PID: pid, PPID: 1, Time: float64(when.UnixNano()) / 1e9, Format: 2, Python: "3.12.1",
		Executable: "/proj/.venv/bin/python", Cwd: "/proj", Argv0: "/proj/app.py", Threaded: true, ThreadedHow: "threading.active_count",
		Threads: 2, ThreadNames: []string{"MainThread", "poller"}, Thread: "MainThread", Wake: true,
		Stack: []report.ForkFrame{{File: "/proj/app.py", Line: line, Function: "main"}}}
	b, _ := json.Marshal(rec)
	slot := make([]byte, forktrace.SlotSize)
	copy(slot, append(b, '\n'))
	if end != "" {
		copy(slot[forktrace.SlotSize-forktrace.TrailerSize:], fmt.Sprintf("%-10d%-5s\n", pid, end))
	}
	f, err := os.OpenFile(forktrace.RingPath(spool), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(slot, int64(pid%forktrace.Slots)*forktrace.SlotSize); err != nil {
		t.Fatal(err)
	}
}

// runRisk runs a RiskWatcher remembering in db until the returned stop.
func runRisk(t *testing.T, spool string, db *history.DB) (<-chan monitor.RiskyFork, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan monitor.RiskyFork, 16)
	ready := make(chan struct{})
	rw := &RiskWatcher{Spool: spool, Remember: db.RecordRiskyFork, OnReady: func() { close(ready) }}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := rw.Run(ctx, func(ev monitor.Event) { out <- *ev.Risk }); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("not watching")
	}
	return out, func() { cancel(); wg.Wait() }
}

func next(t *testing.T, c <-chan monitor.RiskyFork) monitor.RiskyFork {
	t.Helper()
	select {
	case w := <-c:
		return w
	case <-time.After(10 * time.Second):
		t.Fatal("no warning within 10s")
	}
	return monitor.RiskyFork{}
}

// TestRiskWatcherOncePerSiteAcrossRestarts: a risky record written to the
// record file is one warning with its site, threads and fix; another child
// at the same site is none; a pending one (a live child, no end mark) is
// judged by the one timer at its deadline; after a restart with the same
// history nothing is said again, and the next warning is a new site's.
func TestRiskWatcherOncePerSiteAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	if err := forktrace.CreateRing(spool); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "history.db")
	db, err := history.Open(dbPath, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	warnings, stop := runRisk(t, spool, db)
	writeRecord(t, spool, 1_000_001, 12, "exit", time.Now())
	w := next(t, warnings)
	if w.Site != "app.py:12" || w.Program != "app.py" || w.Project != "/proj" || w.Reason != "exited without exec" || len(w.Threads) != 2 || w.Fix == "" {
		t.Errorf("warning: %+v", w)
	}
	writeRecord(t, spool, 1_000_002, 12, "exit", time.Now()) // same site
	// A live child (this process) without an end mark: pending, then
	// risky at RiskAfter, found by the timer (no file event comes).
	start := time.Now()
	writeRecord(t, spool, os.Getpid(), 20, "", start)
	w = next(t, warnings)
	if w.Site != "app.py:20" || w.Reason != "ran 1s without exec" || time.Since(start) < forktrace.RiskAfter {
		t.Errorf("pending fork: %+v after %v", w, time.Since(start))
	}
	stop()
	db.Close()

	db, err = history.Open(dbPath, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	warnings, stop = runRisk(t, spool, db)
	defer stop()
	writeRecord(t, spool, 1_000_003, 30, "exit", time.Now())
	if w := next(t, warnings); w.Site != "app.py:30" {
		t.Errorf("after a restart the first warning is %+v, want the new site's", w)
	}
	rows, _ := db.RiskyForks()
	if len(rows) != 3 {
		t.Errorf("history: %d rows", len(rows))
	}
}
