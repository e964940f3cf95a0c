package monitor

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// An excerpt (a real report from a public tracker, cut where it was
// published) that does not parse whole.
const excerpt = "python37-objc-fork-fontbakery-2982.crash"

// TestPartialReport: an excerpt renamed into the folder after its last
// write is classified at once as partial (docs/architecture.md: a rename
// into the folder is complete at once), also when it was moved in with its
// own, older time; one written in place is waited on, and said so once,
// until it is complete. Issue 32: a partial report waited 30 s in silence.
func TestPartialReport(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("report", "testdata", "reports", excerpt))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := report.Parse(data); err == nil {
		t.Fatalf("%s parses whole: not an excerpt", excerpt)
	}
	dir := t.TempDir()
	reports := filepath.Join(dir, "reports")
	os.MkdirAll(reports, 0o755)
	st, _ := LoadState("")
	ready := make(chan struct{})
	w, err := NewWatcher(Config{ReportDirs: []string{reports}, State: st, QuietAfter: time.Minute, Log: slog.New(&sweptHandler{done: ready})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs := make(chan Event, 16)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, func(ev Event) { evs <- ev }) }()
	select { // the first sweep is done: the watch is in place
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher did not finish its first sweep")
	}
	next := func(what string) Event {
		t.Helper()
		select {
		case ev := <-evs:
			return ev
		case <-time.After(10 * time.Second): // QuietAfter is a minute: this is far shorter
			t.Fatalf("no event for %s within 10s", what)
		}
		return Event{}
	}

	// Renamed in after its last write (ctime after mtime).
	renameIn := func(name string, mtime time.Time) string {
		tmp := filepath.Join(dir, "."+name)
		os.WriteFile(tmp, data, 0o644)
		if err := os.Chtimes(tmp, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(reports, name)
		if err := os.Rename(tmp, dst); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	for _, c := range []struct {
		name  string
		mtime time.Time
	}{
		{"Python-2026-12-05-100000.crash", time.Now().Add(-time.Second)},                 // renamed in a second after its write
		{"Python-2020-06-01-120000.crash", time.Date(2020, 6, 1, 12, 0, 0, 0, time.UTC)}, // moved in from Downloads, its time kept
	} {
		p := renameIn(c.name, c.mtime)
		ev := next(c.name)
		if ev.Kind != KindCrash || ev.Path != "" && ev.Path != p || ev.Report == nil || !ev.Report.Partial {
			t.Fatalf("%s: got %s %+v, want a partial crash at once", c.name, ev.Kind, ev)
		}
		// The next one is another pid and time, or the id repeats.
		data = []byte(replaceOnce(string(data), "35706", "35707"))
	}

	// Written in place: waited on, said once, then complete.
	p := filepath.Join(reports, "Python-2026-12-05-100100.crash")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data = []byte(replaceOnce(string(data), "35707", "35708"))
	f.Write(data[:len(data)/2])
	f.Sync()
	ev := next("the half-written report")
	if ev.Kind != KindWaiting || ev.Path != p || ev.Note == "" {
		t.Fatalf("got %s %+v, want waiting for %s", ev.Kind, ev, p)
	}
	f.Write(data[len(data)/2 : len(data)-200])
	f.Sync()
	select {
	case ev := <-evs:
		t.Fatalf("a second event while it is written: %s %+v", ev.Kind, ev)
	case <-time.After(1500 * time.Millisecond): // the watcher's first retries
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func replaceOnce(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	return s
}

// sweptHandler closes done when the watcher logs that its first sweep is
// done (its watches are in place by then).
type sweptHandler struct {
	once sync.Once
	done chan struct{}
}

func (h *sweptHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *sweptHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "history sweep done" {
		h.once.Do(func() { close(h.done) })
	}
	return nil
}
func (h *sweptHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *sweptHandler) WithGroup(string) slog.Handler      { return h }
