package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/monitor"
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
}

type watchTuning struct {
	quietAfter, coreSettle, summaryEvery time.Duration
	folderOnly                           bool
}

// newWatcher builds the watcher and loads the state.
func newWatcher(ctx context.Context, wf *watchFlags, tun *watchTuning, log *slog.Logger) (*monitor.Watcher, monitor.Store, error) {
	wf.fill(ctx)
	st, err := monitor.LoadState(wf.statePath)
	if err != nil {
		log.Warn("state", "err", err)
	}
	w, err := monitor.NewWatcher(monitor.Config{
		ReportDirs: wf.reportDirs,
		CoreDir:    wf.coresDir,
		CoreName:   wf.coreName,
		State:      st,
		QuietAfter: tun.quietAfter,
		CoreSettle: tun.coreSettle,
		FolderOnly: tun.folderOnly,
		Log:        log,
	})
	return w, st, err
}

func runWatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "one JSON object per event per line")
	notify := fs.Bool("notify", false, "send desktop notifications for Python crashes")
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
	w, _, err := newWatcher(ctx, &wf, &tun, log)
	if err != nil {
		fmt.Fprintln(stderr, "watch:", err)
		return 1
	}
	var alerter *Alerter
	if *notify {
		alerter = NewAlerter(newBeeepNotifier(), tun.summaryEvery, func(err error) { log.Warn("notification", "err", err) })
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "Watching %s", strings.Join(wf.reportDirs, ", "))
		if wf.coresDir != "" {
			fmt.Fprintf(stdout, " and core files in %s", wf.coresDir)
		}
		fmt.Fprintln(stdout, " (Ctrl-C to stop)")
	}
	err = w.Run(ctx, func(ev monitor.Event) {
		if *asJSON {
			writeJSONLine(stdout, ev)
		} else {
			io.WriteString(stdout, eventLine(ev))
		}
		if alerter != nil {
			alerter.Event(ev)
		}
	})
	if err != nil {
		fmt.Fprintln(stderr, "watch:", err)
		return 1
	}
	return 0
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
		s := fmt.Sprintf("%s %s: %s", prefix, procWithPID(orDash(r.Process), r.PID), headline(r))
		if ev.Core != nil {
			s += fmt.Sprintf("; core file %s", humanBytes(ev.Core.Size))
		}
		s += "\n"
		if r.Python && r.Advice != "" && !ev.History {
			s += "    " + r.Advice + "\n"
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
