package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/forkwatch/forkwatch/app/desktop"
	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/app/notify"
	"github.com/forkwatch/forkwatch/app/service"
	"github.com/forkwatch/forkwatch/internal/jsonfmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"github.com/forkwatch/forkwatch/settings"

	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/spf13/cobra"
)

// addWatchFlags declares the folder flags shared by `watch` and the app.
// The tuning flags (--quiet-after, --core-settle, --summary-every,
// --folder-only) are hidden on purpose: they exist for the tests and the
// benchmarks, which need short timings or macOS's folder-only watching on
// Linux; the README lists them under "Tuning flags".
func addWatchFlags(cmd *cobra.Command, wf *service.Folders, extra *service.Tuning) {
	fs := cmd.Flags()
	fs.StringArrayVar(&wf.ReportDirs, "reports-dir", nil, "crash report folder to watch (repeatable; replaces the defaults)")
	fs.Var(&setString{&wf.CoresDir, &wf.CoresSet}, "cores-dir", "core file folder to watch (replaces the folder of kern.corefile; \"\" for none)")
	fs.Var(&setString{&wf.StatePath, &wf.StateSet}, "state", "keep the memory in this JSON state file instead of the history database (\"\" keeps none)")
	fs.BoolVar(&wf.ReadOnly, "read-only", false, "run beside another Forkwatch: record nothing, take no lock")
	fs.DurationVar(&extra.QuietAfter, "quiet-after", 30*time.Second, "give up waiting on an incomplete report unchanged for this long and classify what is there")
	fs.DurationVar(&extra.CoreSettle, "core-settle", 10*time.Second, "a core file is complete when it stops growing for this long")
	fs.DurationVar(&extra.SummaryEvery, "summary-every", time.Minute, "at most one summary notification per this interval after the first")
	fs.BoolVar(&extra.FolderOnly, "folder-only", false, "rescan folders on change instead of reading named files (how macOS is watched)")
	fs.DurationVar(&extra.ExportMaxBackoff, "export-max-backoff", 0, "longest wait between export attempts while the collector is unreachable (0: 5m)")
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

// watchCmd is `forkwatch watch`: the watcher in the terminal.
func (c *cli) watchCmd() *cobra.Command {
	var wf service.Folders
	var tun service.Tuning
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

func runWatch(ctx context.Context, wf *service.Folders, tun *service.Tuning, asJSON, notifyOn bool, stdout, stderr io.Writer) int {
	release, ok := lockInstance("forkwatch watch", wf, stderr)
	if !ok {
		return exitFailed
	}
	defer release()
	plain, code := watchFolders(ctx, wf, asJSON, stderr)
	if code != exitOK {
		return code
	}
	log := slog.Default()
	out := &lockedWriter{w: stdout}
	stdout = out
	tun.OnPrune = func(p history.Pruned) { out.WriteString(prunedLine(p, asJSON)) }
	w, st, closeStore, err := service.NewWatcher(ctx, wf, tun, log)
	if err != nil {
		fmt.Fprintln(stderr, "watch:", err)
		return 1
	}
	defer closeStore()
	db, _ := st.(*history.DB)
	pol, exp := service.StartManaged(ctx, settings.DefaultEnv(), db, tun.ExportMaxBackoff, appinfo.Version(version), log, nil, lineTo(stderr, "forkwatch watch: "))
	defer exp.Stop()
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
		alerter = notify.NewAlerter(n, tun.SummaryEvery, func(err error) { log.Warn("notification", "err", err) })
		desk := desktop.Guarded{Desktop: desktop.New(runtime.GOOS), ReportDirs: wf.ReportDirs}
		n.OnAction(func(action string, no notify.Notification) {
			if err := notify.RunAction(ctx, desk, alerter, time.Now(), action, no); err != nil {
				log.Warn("notification action", "action", action, "err", err)
			}
		})
	}
	if plain {
		fmt.Fprint(stdout, elsewhereLine(wf, runtime.GOOS))
	} else if !asJSON {
		fmt.Fprint(stdout, watchingLine(wf))
	}
	spool := service.NewSpoolSweeper(service.TraceManager(), time.Minute, log)
	go spool.Run(ctx)
	show := eventPrinter(stdout, asJSON, alerter)
	// Stopped, and waited for, before the history closes (deferred calls
	// run last first).
	defer startRiskWatcher(ctx, db, log, show)()
	err = w.Run(ctx, func(ev monitor.Event) {
		// The line first: the rest wakes other goroutines (a thread each
		// time, on a machine at rest) or writes the database, and the
		// line waited for them.
		show(ev)
		spool.Kick()
		service.RecordEvent(db, ev, log)
		exp.Kick()
	})
	if err != nil {
		fmt.Fprintln(stderr, "watch:", err)
		return 1
	}
	return 0
}

// lineTo writes each line to w after prefix, one at a time (the profile
// watcher calls it from its own goroutine).
func lineTo(w io.Writer, prefix string) func(string) {
	var mu sync.Mutex
	return func(line string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(w, prefix+line)
	}
}

// eventPrinter prints each event (a JSON line, or eventLine) and hands it
// to the alerter; it is called from the watcher's and the risk watcher's
// goroutines, one at a time.
func eventPrinter(stdout io.Writer, asJSON bool, alerter *notify.Alerter) func(monitor.Event) {
	var mu sync.Mutex
	return func(ev monitor.Event) {
		mu.Lock()
		defer mu.Unlock()
		if asJSON {
			writeJSONLine(stdout, ev)
		} else {
			io.WriteString(stdout, eventLine(ev))
		}
		if alerter != nil {
			alerter.Event(ev)
		}
	}
}

// watchFolders fills in the default folders and checks them before the
// watcher starts. Off macOS with the default folders, one plain line (on
// stdout, plain is true) will say what is watched and how to choose others,
// not a note and a Watching line that say it twice; otherwise the notes go
// to stderr now. A non-zero code means watch stops, having said why.
func watchFolders(ctx context.Context, wf *service.Folders, asJSON bool, stderr io.Writer) (plain bool, code int) {
	given := len(wf.ReportDirs) > 0 || wf.CoresSet
	wf.Fill(ctx)
	notes, err := checkFolders(wf, given, runtime.GOOS)
	if err != nil {
		code := exitFailed
		var ue usageError
		if errors.As(err, &ue) {
			code = exitUsage
		}
		fmt.Fprintln(stderr, "forkwatch watch:", err)
		return false, code
	}
	plain = !asJSON && !given && runtime.GOOS != "darwin" && len(notes) > 0
	if !plain {
		for _, n := range notes {
			fmt.Fprintln(stderr, "forkwatch watch:", n)
		}
	}
	return plain, exitOK
}

// watchingLine is watch's first line: what it watches and how to stop.
func watchingLine(wf *service.Folders) string {
	s := "Watching " + strings.Join(wf.ReportDirs, ", ")
	if wf.CoresDir != "" {
		s += " and core files in " + wf.CoresDir
	}
	return s + " (Ctrl-C to stop)\n"
}

// elsewhereLine is watchingLine off macOS with the default folders:
// macOS's folders, which this system does not have, and how to watch
// others (issue 32: `make run` on Linux watched a path that does not
// exist, said twice, and gave no way to choose).
func elsewhereLine(wf *service.Folders, goos string) string {
	s := "Watching macOS's folders " + strings.Join(wf.ReportDirs, ", ")
	if wf.CoresDir != "" {
		s += " and " + wf.CoresDir
	}
	n := len(wf.ReportDirs)
	if wf.CoresDir != "" {
		n++
	}
	return s + ", which " + goos + " does not have (Forkwatch waits for " + wording.Plural(n, "it", "them") + `): choose the folder to watch with --reports-dir DIR (make run ARGS="--reports-dir DIR"). Ctrl-C to stop.` + "\n"
}

// lockedWriter serialises the watch loop's lines with the history's
// pruning goroutine's.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) WriteString(s string) (int, error) { return l.Write([]byte(s)) }

// prunedLine says what the history's retention removed: crashes Forkwatch
// recorded more than the retention ago (never by the report's own date).
func prunedLine(p history.Pruned, asJSON bool) string {
	if asJSON {
		b, _ := json.Marshal(struct {
			Schema         int    `json:"schema"`
			Kind           string `json:"kind"`
			Time           string `json:"time"`
			Crashes        int    `json:"crashes"`
			RecordedBefore string `json:"recorded_before"`
		}{jsonfmt.Schema, "pruned", p.Time.Format(time.RFC3339), p.Crashes, p.RecordedBefore.Format(time.RFC3339)})
		return string(b) + "\n"
	}
	return fmt.Sprintf("%s history: removed %d %s recorded before %s (past the retention; `forkwatch status` counts them)\n",
		p.Time.Format("15:04:05"), p.Crashes, wording.Plural(p.Crashes, "crash", "crashes"), p.RecordedBefore.Format(time.DateOnly))
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
	case monitor.KindWaiting:
		return fmt.Sprintf("%s waiting for %s: %s\n", prefix, ev.Path, ev.Note)
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
	case monitor.KindRiskyFork:
		return prefix + " " + riskyForkLines(ev.Risk)
	default:
		return fmt.Sprintf("%s error: %s\n", prefix, ev.Err)
	}
}

// riskyForkLines is the terminal form of a first-risky-fork warning.
func riskyForkLines(w *monitor.RiskyFork) string {
	s := "at risk: " + notify.RiskyForkTitle(*w) + "\n"
	s += "    " + w.Reason + "; " + w.Meaning + "\n"
	if len(w.Threads) > 0 {
		s += "    threads: " + strings.Join(w.Threads, ", ") + "\n"
	}
	s += "    fix: " + w.Fix + "\n"
	return s
}

// startRiskWatcher runs the risk watcher in its own goroutine and returns
// what stops it and waits until it has stopped. The risk watcher records
// its warnings in the history, so its stop must come before the history
// closes: no write after the store is closed.
func startRiskWatcher(ctx context.Context, db *history.DB, log *slog.Logger, emit func(monitor.Event)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runRiskWatcher(ctx, db, log, emit)
	}()
	return func() { cancel(); <-done }
}

// runRiskWatcher gives the first-risky-fork warnings (issue 30) through
// emit until ctx is done, remembered in the history when there is one.
func runRiskWatcher(ctx context.Context, db *history.DB, log *slog.Logger, emit func(monitor.Event)) {
	rw := &service.RiskWatcher{Spool: service.TraceManager().SpoolDir(), Log: log}
	if db != nil {
		rw.Remember = db.RecordRiskyFork
	}
	if err := rw.Run(ctx, emit); err != nil {
		log.Warn("fork tracer: risky-fork warnings stopped", "err", err)
	}
}

// lockInstance takes the one-Forkwatch lock for cmd ("forkwatch",
// "forkwatch watch") unless wf asks to run read-only, which then keeps no
// state. On failure it has said why on stderr; release is never nil.
func lockInstance(cmd string, wf *service.Folders, stderr io.Writer) (release func(), ok bool) {
	if wf.ReadOnly {
		wf.StatePath, wf.StateSet = "", true
		return func() {}, true
	}
	release, err := appinfo.AcquireInstance(appinfo.SupportDir())
	if err != nil {
		if errors.Is(err, appinfo.ErrAlreadyRunning) {
			fmt.Fprintf(stderr, "%s: Forkwatch is %v; %s\n", cmd, err, appinfo.AlreadyRunningHint)
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		}
		return func() {}, false
	}
	return release, true
}

// checkFolders looks at the folders watch is about to watch before the
// watcher starts. A path that is a file (or anything but a folder) is a
// usage error naming it as such, instead of the watcher's later "cannot
// read FILE/Retired: not a directory". Folders that do not exist yet are
// fine (the watcher picks them up when they appear: macOS creates
// DiagnosticReports at the first crash), but are said once, with what to
// do, in notes: a mistyped --reports-dir is otherwise waited on in silence.
func checkFolders(wf *service.Folders, given bool, goos string) (notes []string, err error) {
	var missing []string
	dirs := append([]string(nil), wf.ReportDirs...)
	if wf.CoresDir != "" {
		dirs = append(dirs, wf.CoresDir)
	}
	for _, d := range dirs {
		fi, serr := os.Stat(d)
		switch {
		case serr == nil && !fi.IsDir():
			flag := "--reports-dir"
			if d == wf.CoresDir {
				flag = "--cores-dir"
			}
			return nil, usagef("%s %s is a file, not a folder: give the folder that holds the crash reports", flag, d)
		case errors.Is(serr, fs.ErrNotExist):
			missing = append(missing, d)
		case serr != nil && !errors.Is(serr, fs.ErrPermission):
			return nil, fmt.Errorf("%s: %s", d, wording.StatReason(serr))
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	what := "does not exist yet"
	if len(missing) > 1 {
		what = "do not exist yet"
	}
	note := fmt.Sprintf("%s %s; watching for %s to appear", strings.Join(missing, ", "), what, wording.Plural(len(missing), "it", "them"))
	switch {
	case given:
		note += " (check the spelling of --reports-dir / --cores-dir)"
	case goos != "darwin":
		note += " (these are macOS's folders; on " + goos + " give the folder to watch with --reports-dir DIR)"
	default:
		note += " (macOS creates it at the first crash report)"
	}
	return []string{note}, nil
}
