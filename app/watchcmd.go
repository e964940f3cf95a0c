package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/attribute"
	"github.com/forkwatch/forkwatch/monitor/report"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/forktrace"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/settings"
	"github.com/forkwatch/forkwatch/settings/doctor"
)

// addWatchFlags declares the folder flags shared by `watch` and the app.
func addWatchFlags(fs *flag.FlagSet, wf *watchFlags, extra *watchTuning) {
	fs.Var((*multiFlag)(&wf.reportDirs), "reports-dir", "crash report folder to watch (repeatable; replaces the defaults)")
	fs.Func("cores-dir", "core file folder to watch (replaces the folder of kern.corefile; \"\" for none)", func(v string) error {
		wf.coresDir, wf.coresSet = v, true
		return nil
	})
	fs.Func("state", "state file (\"\" keeps no state)", func(v string) error {
		wf.statePath, wf.stateSet = v, true
		return nil
	})
	fs.DurationVar(&extra.quietAfter, "quiet-after", 30*time.Second, "give up on an incomplete report unchanged for this long")
	fs.DurationVar(&extra.coreSettle, "core-settle", 10*time.Second, "a core file is complete when it stops growing for this long")
	fs.DurationVar(&extra.summaryEvery, "summary-every", time.Minute, "at most one summary notification per this interval after the first")
	fs.BoolVar(&extra.folderOnly, "folder-only", false, "rescan folders on change instead of reading named files (how macOS is watched)")
	fs.DurationVar(&extra.exportMaxBackoff, "export-max-backoff", 0, "longest wait between export attempts while the collector is unreachable (0: 5m)")
}

type watchTuning struct {
	quietAfter, coreSettle, summaryEvery time.Duration
	folderOnly                           bool
	exportMaxBackoff                     time.Duration
}

// newWatcher builds the watcher and opens its memory: the history database
// by default, or the JSON state file of --state (tests, and --state "" for
// none). The returned close func releases the database.
func newWatcher(ctx context.Context, wf *watchFlags, tun *watchTuning, log *slog.Logger) (*monitor.Watcher, monitor.Store, func(), error) {
	wf.fill(ctx)
	st, db := openStore(wf, log)
	closeStore := func() {}
	if db != nil {
		closeStore = func() {
			if err := db.Close(); err != nil {
				log.Warn("history: close", "err", err)
			}
		}
	}
	attr := attribute.NewAttributor()
	w, err := monitor.NewWatcher(monitor.Config{
		ReportDirs: wf.reportDirs,
		CoreDir:    wf.coresDir,
		CoreName:   wf.coreName,
		State:      st,
		QuietAfter: tun.quietAfter,
		CoreSettle: tun.coreSettle,
		FolderOnly: tun.folderOnly,
		Log:        log,
		// Probe children are marked first (their reports are test results);
		// the fork tracer's record comes before attribution, so that the
		// tool it names gets its fix.
		Enrich:     []func(*report.Report){doctor.ProbeMarker(supportDir()), forktrace.Enricher(traceManager().SpoolDir()), attr.Enrich},
		EnrichCore: []func(*report.CoreFile){attr.EnrichCore},
	})
	if err != nil {
		closeStore()
		return nil, nil, nil, err
	}
	return w, st, closeStore, nil
}

// openStore opens the history database (importing the JSON state of
// earlier versions once), or the JSON state when --state was given or the
// database cannot be had. A database another Forkwatch holds is not
// shared: this process then keeps its memory in the JSON state.
func openStore(wf *watchFlags, log *slog.Logger) (monitor.Store, *history.DB) {
	if !wf.stateSet {
		if err := privateSupportDir(supportDir()); err != nil {
			log.Warn("support folder", "err", err)
		}
		d, err := history.Open(historyDBPath(), history.Options{Log: log})
		switch {
		case d == nil && errors.Is(err, history.ErrLocked):
			log.Warn("history: another Forkwatch is recording; this one keeps its memory in the state file", "err", err)
		case d == nil:
			log.Error("history: cannot open the database; using the state file", "err", err)
		default:
			if err != nil {
				log.Error("history", "err", err) // set aside: a fresh database, the old file kept
			}
			if im, err := d.ImportState(wf.statePath); err != nil {
				log.Warn("history: import the state file", "path", wf.statePath, "err", err)
			} else if !im.Already && im.Seen+im.Paths > 0 {
				log.Info("history: imported the state file", "seen", im.Seen, "paths", im.Paths, "cores", im.Cores, "recent", im.Recent)
			}
			return d, d
		}
	}
	st, err := monitor.LoadState(wf.statePath)
	if err != nil {
		log.Warn("state", "err", err)
	}
	return st, nil
}

func runWatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "one JSON object per event per line")
	notify := fs.Bool("notify", false, "send desktop notifications for crashes after fork() (any runtime) and Python crashes")
	var wf watchFlags
	var tun watchTuning
	addWatchFlags(fs, &wf, &tun)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "watch: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	log := slog.Default()
	w, st, closeStore, err := newWatcher(ctx, &wf, &tun, log)
	if err != nil {
		fmt.Fprintln(stderr, "watch:", err)
		return 1
	}
	defer closeStore()
	db, _ := st.(*history.DB)
	pol, exp := startManaged(ctx, settings.DefaultEnv(), db, tun.exportMaxBackoff, log, nil)
	defer exp.stop()
	var alerter *Alerter
	if *notify && !pol.get().NotificationsOn() {
		log.Warn("notifications are off: " + ManagedReason)
	} else if *notify {
		n := newAppNotifier(ctx, log)
		alerter = NewAlerter(n, tun.summaryEvery, func(err error) { log.Warn("notification", "err", err) })
		desk := guardedDesktop{Desktop: newDesktop(runtime.GOOS), reportDirs: wf.reportDirs}
		n.OnAction(func(action string, no Notification) {
			if err := runNotificationAction(ctx, desk, alerter, time.Now(), action, no); err != nil {
				log.Warn("notification action", "action", action, "err", err)
			}
		})
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "Watching %s", strings.Join(wf.reportDirs, ", "))
		if wf.coresDir != "" {
			fmt.Fprintf(stdout, " and core files in %s", wf.coresDir)
		}
		fmt.Fprintln(stdout, " (Ctrl-C to stop)")
	}
	spool := newSpoolSweeper(traceManager(), time.Minute, log)
	go spool.Run(ctx)
	err = w.Run(ctx, func(ev monitor.Event) {
		spool.Kick()
		if *asJSON {
			writeJSONLine(stdout, ev)
		} else {
			io.WriteString(stdout, eventLine(ev))
		}
		if alerter != nil {
			alerter.Event(ev)
		}
		recordEvent(db, ev, log)
		exp.kick()
	})
	if err != nil {
		fmt.Fprintln(stderr, "watch:", err)
		return 1
	}
	return 0
}

// recordEvent puts what the watcher's Store does not see into the history:
// core files with their sizes. (Crashes are recorded by the Store itself.)
func recordEvent(db *history.DB, ev monitor.Event, log *slog.Logger) {
	if db == nil || ev.Kind != monitor.KindCore || ev.Core == nil {
		return
	}
	if err := db.RecordCore(*ev.Core, time.Now()); err != nil {
		log.Warn("history: record core file", "err", err)
	}
}

// eventLine is the terminal form of an event.
func eventLine(ev monitor.Event) string {
	ts := time.Now().Format("15:04:05")
	prefix := ts
	if ev.History {
		prefix = ts + " (earlier)"
	}
	switch ev.Kind {
	case monitor.KindCrash:
		r := ev.Report
		if r.Probe {
			prefix += " probe result:"
		}
		s := fmt.Sprintf("%s %s: %s", prefix, procWithPID(orDash(r.Process), r.PID), headline(r))
		if ev.Core != nil {
			s += fmt.Sprintf("; core file %s", humanBytes(ev.Core.Size))
		}
		s += "\n"
		if who := programProject(*r); who != "" {
			s += "    from " + who
			if r.ParentCommand != "" {
				s += ", started as: " + r.ParentCommand
			}
			s += "\n"
		}
		if site := forkSiteLine(*r); site != "" {
			s += "    " + site + "\n"
		}
		if fix := fixOrAdvice(*r); report.Notable(r) && fix != "" && !ev.History {
			s += "    " + fix + "\n"
		}
		return s
	case monitor.KindCore:
		c := ev.Core
		state := "being written"
		if c.Complete {
			state = "complete"
		}
		who := ""
		if c.Process != "" {
			who = " from " + c.Process
		}
		return fmt.Sprintf("%s core file %s (pid %d%s): %s, %s\n", prefix, c.Path, c.PID, who, humanBytes(c.Size), state)
	default:
		return fmt.Sprintf("%s error: %s\n", prefix, ev.Err)
	}
}
