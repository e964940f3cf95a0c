package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/app/desktop"
	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/app/notify"
	"github.com/forkwatch/forkwatch/monitor/attribute"
	"github.com/forkwatch/forkwatch/monitor/report"
	"github.com/forkwatch/forkwatch/settings"

	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/forktrace"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/settings/doctor"
	"github.com/spf13/cobra"
)

// addWatchFlags declares the folder flags shared by `watch` and the app.
// The tuning flags (--quiet-after, --core-settle, --summary-every,
// --folder-only) are hidden on purpose: they exist for the tests and the
// benchmarks, which need short timings or macOS's folder-only watching on
// Linux; the README lists them under "Tuning flags".
func addWatchFlags(cmd *cobra.Command, wf *watchFlags, extra *watchTuning) {
	fs := cmd.Flags()
	fs.StringArrayVar(&wf.reportDirs, "reports-dir", nil, "crash report folder to watch (repeatable; replaces the defaults)")
	fs.Var(&setString{&wf.coresDir, &wf.coresSet}, "cores-dir", "core file folder to watch (replaces the folder of kern.corefile; \"\" for none)")
	fs.Var(&setString{&wf.statePath, &wf.stateSet}, "state", "keep the memory in this JSON state file instead of the history database (\"\" keeps none)")
	fs.BoolVar(&wf.readOnly, "read-only", false, "run beside another Forkwatch: record nothing, take no lock")
	fs.DurationVar(&extra.quietAfter, "quiet-after", 30*time.Second, "give up waiting on an incomplete report unchanged for this long and classify what is there")
	fs.DurationVar(&extra.coreSettle, "core-settle", 10*time.Second, "a core file is complete when it stops growing for this long")
	fs.DurationVar(&extra.summaryEvery, "summary-every", time.Minute, "at most one summary notification per this interval after the first")
	fs.BoolVar(&extra.folderOnly, "folder-only", false, "rescan folders on change instead of reading named files (how macOS is watched)")
	fs.DurationVar(&extra.exportMaxBackoff, "export-max-backoff", 0, "longest wait between export attempts while the collector is unreachable (0: 5m)")
	for _, h := range []string{"quiet-after", "core-settle", "summary-every", "folder-only", "export-max-backoff"} {
		fs.MarkHidden(h)
	}
	cmd.MarkFlagDirname("reports-dir")
	cmd.MarkFlagDirname("cores-dir")
	cmd.MarkFlagFilename("state", "json")
}

// setString is a string flag that remembers it was given, so that
// --cores-dir "" (watch no core folder) differs from no flag (the folder of
// kern.corefile).
type setString struct {
	p   *string
	set *bool
}

func (s *setString) String() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}
func (s *setString) Set(v string) error { *s.p, *s.set = v, true; return nil }
func (s *setString) Type() string       { return "string" }

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
		Enrich:     []func(*report.Report){doctor.ProbeMarker(appinfo.SupportDir()), forktrace.Enricher(traceManager().SpoolDir()), attr.Enrich},
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
		if err := appinfo.PrivateSupportDir(appinfo.SupportDir()); err != nil {
			log.Warn("support folder", "err", err)
		}
		d, err := history.Open(appinfo.HistoryDBPath(), history.Options{Log: log})
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

// watchCmd is `forkwatch watch`: the watcher in the terminal.
func (c *cli) watchCmd() *cobra.Command {
	var wf watchFlags
	var tun watchTuning
	var asJSON, notifyOn bool
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "watch the crash report and core file folders and print each crash as it happens",
		Long: `Watch the crash report folders (default: the DiagnosticReports folders) and the core file
folder (default: the folder of kern.corefile), and print each crash, core file and error as it
happens. Crashes are recorded in the history database. Only one Forkwatch records at a time:
a second says which pid is running and exits 1, unless given --read-only.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c.code = runWatch(c.ctx, &wf, &tun, asJSON, notifyOn, c.stdout, c.stderr)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per event per line")
	cmd.Flags().BoolVar(&notifyOn, "notify", false, "send desktop notifications for crashes after fork() (any runtime) and Python crashes")
	addWatchFlags(cmd, &wf, &tun)
	return cmd
}

func runWatch(ctx context.Context, wf *watchFlags, tun *watchTuning, asJSON, notifyOn bool, stdout, stderr io.Writer) int {
	release, ok := lockInstance("forkwatch watch", wf, stderr)
	if !ok {
		return exitFailed
	}
	defer release()
	given := len(wf.reportDirs) > 0 || wf.coresSet
	wf.fill(ctx)
	notes, err := checkFolders(wf, given, runtime.GOOS)
	if err != nil {
		code := exitFailed
		var ue usageError
		if errors.As(err, &ue) {
			code = exitUsage
		}
		fmt.Fprintln(stderr, "forkwatch watch:", err)
		return code
	}
	for _, n := range notes {
		fmt.Fprintln(stderr, "forkwatch watch:", n)
	}
	log := slog.Default()
	w, st, closeStore, err := newWatcher(ctx, wf, tun, log)
	if err != nil {
		fmt.Fprintln(stderr, "watch:", err)
		return 1
	}
	defer closeStore()
	db, _ := st.(*history.DB)
	pol, exp := startManaged(ctx, settings.DefaultEnv(), db, tun.exportMaxBackoff, log, nil)
	defer exp.stop()
	var alerter *notify.Alerter
	if notifyOn && !pol.Get().NotificationsOn() {
		log.Warn("notifications are off: " + policy.ManagedReason)
		notifyOn = false
	}
	if why := notify.NoSessionBus(runtime.GOOS, os.Getenv, notify.FileExists); notifyOn && why != "" {
		fmt.Fprintf(stderr, "forkwatch watch: --notify: %s; watching without notifications\n", why)
		notifyOn = false
	}
	if notifyOn {
		n := notify.NewApp(ctx, log, appinfo.Version(version))
		alerter = notify.NewAlerter(n, tun.summaryEvery, func(err error) { log.Warn("notification", "err", err) })
		desk := desktop.Guarded{Desktop: desktop.New(runtime.GOOS), ReportDirs: wf.reportDirs}
		n.OnAction(func(action string, no notify.Notification) {
			if err := notify.RunAction(ctx, desk, alerter, time.Now(), action, no); err != nil {
				log.Warn("notification action", "action", action, "err", err)
			}
		})
	}
	if !asJSON {
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
		if asJSON {
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
		s := fmt.Sprintf("%s %s: %s", prefix, wording.ProcWithPID(wording.OrDash(r.Process), r.PID), wording.Headline(r))
		if ev.Core != nil {
			s += fmt.Sprintf("; core file %s", wording.HumanBytes(ev.Core.Size))
		}
		s += "\n"
		if who := notify.ProgramProject(*r); who != "" {
			s += "    from " + who
			if r.ParentCommand != "" {
				s += ", started as: " + r.ParentCommand
			}
			s += "\n"
		}
		if site := notify.ForkSiteLine(*r); site != "" {
			s += "    " + site + "\n"
		}
		if fix := notify.FixOrAdvice(*r); report.Notable(r) && fix != "" && !ev.History {
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
		return fmt.Sprintf("%s core file %s (pid %d%s): %s, %s\n", prefix, c.Path, c.PID, who, wording.HumanBytes(c.Size), state)
	default:
		return fmt.Sprintf("%s error: %s\n", prefix, ev.Err)
	}
}
