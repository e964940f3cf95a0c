package service

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/forkwatch/forkwatch/internal/dirwatch"
	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/forktrace"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// RiskWatcher gives the first-risky-fork warnings (issue 30). It watches
// the fork tracer's record file itself (a file watch: the folder-only
// notifier ignores in-place writes, as kqueue does on macOS, and writes
// through the tracer's mapping raise no event at all; the tracer writes the
// first threaded fork per site and that child's end mark with a real
// write()), reads the records with forktrace.RiskyForks on each event, and
// arms one timer for the deadline RiskyForks returns only while a fork is
// pending. With no tracer writing, nothing wakes it: no polling timer.
type RiskWatcher struct {
	Spool string
	// Remember records a warning and says whether it is new (false: given
	// before, by this run or an earlier one). nil keeps the memory in this
	// process only.
	Remember func(monitor.RiskyFork) (bool, error)
	// Settle is how long file events are gathered before a look (default
	// 20ms).
	Settle time.Duration
	Log    *slog.Logger
	// OnReady, when set, is called once the record file is watched.
	OnReady func()

	given map[string]bool
}

// Run watches until ctx is done, calling emit with one KindRiskyFork event
// per new warning (from the Run goroutine).
func (w *RiskWatcher) Run(ctx context.Context, emit func(monitor.Event)) error {
	if w.Settle <= 0 {
		w.Settle = 20 * time.Millisecond
	}
	if w.Log == nil {
		w.Log = slog.Default()
	}
	w.given = map[string]bool{}
	kick := make(chan struct{}, 1)
	errc := make(chan error, 1)
	poke := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	go func() {
		// The first look comes after the watch is in place (ready pokes),
		// so that no write falls between it and the watch.
		errc <- dirwatch.WatchReady(ctx, nil, []string{forktrace.RingPath(w.Spool)}, w.Settle, func() {
			w.Log.Debug("fork tracer: watching the record file for risky forks", "path", forktrace.RingPath(w.Spool))
			poke()
			if w.OnReady != nil {
				w.OnReady()
			}
		}, poke)
	}()
	var timer *time.Timer
	var due <-chan time.Time
	look := func() {
		next := w.look(emit)
		if timer != nil {
			timer.Stop()
			timer, due = nil, nil
		}
		if next > 0 {
			timer = time.NewTimer(next)
			due = timer.C
		}
	}
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return nil
		case err := <-errc:
			return err
		case <-kick:
			look()
		case <-due:
			timer, due = nil, nil
			look()
		}
	}
}

// look reads the records once, emits the new warnings and returns when to
// look again (0: nothing pending).
func (w *RiskWatcher) look(emit func(monitor.Event)) time.Duration {
	risky, next, err := forktrace.RiskyForks(w.Spool, time.Now(), pidAlive)
	w.Log.Debug("fork tracer: looked for risky forks", "risky", len(risky), "next", next)
	if err != nil {
		w.Log.Warn("fork tracer: read the records for risky forks", "err", err)
		return 0
	}
	for _, rec := range risky {
		key := rec.RiskKey()
		if w.given[key] {
			continue
		}
		w.given[key] = true
		warning := RiskyForkOf(rec)
		if w.Remember != nil {
			added, err := w.Remember(warning)
			if err != nil {
				w.Log.Warn("history: record risky fork", "err", err)
			} else if !added {
				continue
			}
		}
		emit(monitor.Event{Kind: monitor.KindRiskyFork, Risk: &warning})
	}
	return next
}

// pidAlive says whether a process runs (kill 0; EPERM: someone else's,
// running).
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// RiskyForkOf is the warning for a record judged risky: the program, the
// project, the fork site (relative to the project), and the fix from the
// tool table's row for the record's fork_via.
func RiskyForkOf(rec *forktrace.Record) monitor.RiskyFork {
	_, reason := rec.Judge(time.Now(), pidAlive)
	w := monitor.RiskyFork{
		Key: rec.RiskKey(), Time: rec.When(), PID: rec.PID, PPID: rec.PPID,
		Project: rec.Cwd, Threads: rec.ThreadNames, ThreadedHow: rec.ThreadedHow,
		Reason: reason, Python: rec.Python, Meaning: monitor.RiskyForkMeaning,
	}
	if s, ok := rec.ForkSite(); ok {
		w.Via, w.Function = s.Via, s.Frame.Function
		file := s.Frame.File
		if rel, err := filepath.Rel(rec.Cwd, file); err == nil && rec.Cwd != "" && !strings.HasPrefix(rel, "..") {
			file = rel
		}
		w.Site = file + ":" + strconv.Itoa(s.Frame.Line)
	}
	w.Tool = report.FrameworkFromVia(w.Via)
	if fw, ok := report.FrameworkByName(w.Tool); ok {
		w.Fix, w.FixSource = fw.Fix, fw.FixSource
	} else {
		w.Fix = "Fork before starting any thread, or follow the fork with exec (subprocess, os.posix_spawn, multiprocessing's spawn start method); OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES set before the interpreter starts silences only macOS's check, not the deadlock risk."
	}
	w.Program = programOf(rec, w.Tool)
	return w
}

// programOf names the program: the tool when the table knows it, else
// the script or command the interpreter ran (argv[0]), else the
// interpreter.
func programOf(rec *forktrace.Record, tool string) string {
	if tool != "" && tool != "multiprocessing" && tool != "multiprocess" {
		return tool
	}
	if rec.Argv0 != "" && rec.Argv0 != "-c" && rec.Argv0 != "-m" {
		return filepath.Base(rec.Argv0)
	}
	if rec.Executable != "" {
		return filepath.Base(rec.Executable)
	}
	return "python"
}
