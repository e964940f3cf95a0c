package monitor

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/internal/dirwatch"
)

// raceNotifier makes the deeper levels of a report folder at the worst
// moment: after the watcher looked at its target (not there yet) and
// before the watch on the level it found is in place. A folder made then
// raises no event, as on both inotify and kqueue a watch sees only what
// happens after it is added.
type raceNotifier struct {
	dirwatch.Notifier
	at, make string
}

func (r *raceNotifier) Add(dir string) error {
	if dir == r.at {
		if err := os.MkdirAll(r.make, 0o700); err != nil {
			return err
		}
	}
	return r.Notifier.Add(dir)
}

// TestWatchNestedFolderMadeDuringWatch: a report folder whose levels are
// made one after the other (mkdir -p by a first crash) is watched however
// the making and the watching interleave; the report written into it is
// seen. Without the re-check after a new ancestor watch, the folder made
// between the look and the watch stays unwatched and the crash is lost.
func TestWatchNestedFolderMadeDuringWatch(t *testing.T) {
	for _, folderOnly := range []bool{false, true} {
		t.Run(map[bool]string{false: "inotify", true: "folder-only"}[folderOnly], func(t *testing.T) {
			base := t.TempDir()
			target := filepath.Join(base, "a", "b", "DiagnosticReports")
			logs := newLogLines()
			st, err := LoadState("")
			if err != nil {
				t.Fatal(err)
			}
			w, err := NewWatcher(Config{
				ReportDirs: []string{target},
				State:      st,
				FolderOnly: folderOnly,
				Log:        slog.New(logs),
				NewNotifier: func(fo bool) (dirwatch.Notifier, error) {
					n, err := dirwatch.New(fo)
					return &raceNotifier{Notifier: n, at: filepath.Join(base, "a"), make: target}, err
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			// The first level is there at start: the watcher's first look
			// finds it as the nearest existing level and watches it, and
			// the notifier makes the rest in between (deterministic).
			if err := os.Mkdir(filepath.Join(base, "a"), 0o700); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			crashes := make(chan Event, 8)
			done := make(chan error, 1)
			go func() {
				done <- w.Run(ctx, func(e Event) {
					if e.Kind == KindCrash {
						crashes <- e
					}
				})
			}()
			sample, err := os.ReadFile(filepath.Join("report", "testdata", "reports", "python313-duckdb-segv-chunkhound.ips"))
			if err != nil {
				t.Fatal(err)
			}
			// Written, then renamed in, as ReportCrash does: complete at once.
			tmp := filepath.Join(base, "report.tmp")
			// After the start-up sweep, so only a watch on the folder can
			// see the report (the sweep would read it otherwise).
			logs.wait(t, "history sweep done")
			if err := os.WriteFile(tmp, sample, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, filepath.Join(target, "python3.13-2026-12-05-101010.ips")); err != nil {
				t.Fatal(err)
			}
			select {
			case e := <-crashes:
				if e.Report == nil || e.Report.Process == "" {
					t.Fatalf("crash event without a report: %+v", e)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("the report in the folder made during the watch was never seen (log: %q)", *logs.msgs)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// logLines is a slog handler that keeps the messages logged, so that a
// test waits for what the watcher says rather than for a fixed time.
type logLines struct {
	mu   *sync.Mutex
	cond *sync.Cond
	msgs *[]string
}

func newLogLines() logLines {
	mu := &sync.Mutex{}
	return logLines{mu: mu, cond: sync.NewCond(mu), msgs: new([]string)}
}

func (l logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l logLines) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l logLines) WithGroup(string) slog.Handler            { return l }
func (l logLines) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	*l.msgs = append(*l.msgs, r.Message)
	l.mu.Unlock()
	l.cond.Broadcast()
	return nil
}

// wait blocks until a message containing want was logged, or fails the
// test after a generous bound.
func (l logLines) wait(t *testing.T, want string) {
	t.Helper()
	timer := time.AfterFunc(20*time.Second, l.cond.Broadcast)
	defer timer.Stop()
	deadline := time.Now().Add(20 * time.Second)
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		for _, m := range *l.msgs {
			if strings.Contains(m, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the watcher never logged %q (logged: %q)", want, *l.msgs)
		}
		l.cond.Wait()
	}
}
