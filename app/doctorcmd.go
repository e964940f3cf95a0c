package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/monitor/report"

	"github.com/forkwatch/forkwatch/internal/atomicfile"
	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/settings/doctor"
	"github.com/spf13/cobra"
)

// doctorCmd is `forkwatch doctor`.
func (c *cli) doctorCmd() *cobra.Command {
	var o doctorFlags
	cmd := &cobra.Command{
		Use:   "doctor [--json] [--probe] [--python PATH]... [--html FILE]",
		Short: "check this Mac: interpreters, core files, fork safety",
		Long: `List every Python on this machine and say, for each, whether a crash writes a core file and
whether the fork-safety variable reaches it, with the reason and the fix. --probe also forks a
throwaway child to show what really happens. Exit 0 when the check ran (whatever it found).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c.code = runDoctor(c.ctx, o, c.stdout, c.stderr)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.asJSON, "json", false, "one JSON object per line: each interpreter, core_system, fork_safety")
	f.BoolVar(&o.probe, "probe", false, "run the live fork probe (a throwaway Python child) on the chosen interpreters")
	f.StringArrayVar(&o.pythons, "python", nil, "interpreter to include and probe (repeatable; default: probe all)")
	f.StringVar(&o.htmlOut, "html", "", "also write the report as a self-contained HTML page to this file")
	f.DurationVar(&o.probeTimeout, "probe-timeout", 20*time.Second, "time limit for one probe run")
	cmd.MarkFlagFilename("python")
	cmd.MarkFlagFilename("html", "html")
	return cmd
}

// doctorFlags are doctor's flags.
type doctorFlags struct {
	asJSON, probe bool
	pythons       []string
	htmlOut       string
	probeTimeout  time.Duration
}

// runDoctor runs the check: the interpreters, core-file and fork-safety
// verdicts with their fixes, and, with --probe, the live fork probe. Exit 0
// when the check ran (whatever it found), 1 when it could not, 2 for usage.
func runDoctor(ctx context.Context, o doctorFlags, stdout, stderr io.Writer) int {
	pythons := append([]string(nil), o.pythons...)
	asJSON, probe, htmlOut, probeTimeout := &o.asJSON, &o.probe, &o.htmlOut, &o.probeTimeout
	for i, p := range pythons {
		abs, err := filepath.Abs(p)
		if err != nil {
			fmt.Fprintf(stderr, "forkwatch doctor: --python %s: %v\n", p, err)
			return exitUsage
		}
		if _, err := os.Stat(abs); err != nil {
			fmt.Fprintf(stderr, "forkwatch doctor: --python %s: %s\n", p, wording.StatReason(err))
			return exitUsage
		}
		pythons[i] = abs
	}
	opts := doctorOptions(appinfo.SupportDir(), slog.Default())
	opts.Probe = *probe
	opts.ProbeTimeout = *probeTimeout
	opts.ExtraPythons = append(opts.ExtraPythons, pythons...)
	opts.ProbePythons = pythons
	rep, err := doctor.Run(ctx, opts)
	if err != nil {
		fmt.Fprintln(stderr, "forkwatch doctor:", err)
		return 1
	}
	if *probe {
		// Into the history, unless a running Forkwatch holds it (the
		// probe's crash reports reach the history through that one).
		if db, _ := history.Open(appinfo.HistoryDBPath(), history.Options{PruneEvery: -1}); db != nil {
			recordProbes(db, rep, slog.Default())
			db.Close()
		}
	}
	if *htmlOut != "" {
		if err := writeDoctorHTML(*htmlOut, rep); err != nil {
			fmt.Fprintln(stderr, "forkwatch doctor:", err)
			return 1
		}
	}
	if *asJSON {
		err = doctor.WriteJSON(stdout, rep)
	} else {
		err = doctor.WriteText(stdout, rep)
	}
	if err != nil {
		fmt.Fprintln(stderr, "forkwatch doctor:", err)
		return 1
	}
	return 0
}

// doctorOptions are the doctor's options for this user: the app's support
// folder (where the watcher looks for probe pids) and the venvs of recent
// crashes from the watcher's state file.
func doctorOptions(support string, log *slog.Logger) doctor.Options {
	opts := doctor.DefaultOptions()
	opts.SupportDir = support
	opts.Settings.SupportDir = support
	opts.Log = log
	opts.ExtraPythons = recentVenvs(filepath.Join(support, "history.db"), filepath.Join(support, "state.json"))
	return opts
}

// recentVenvs lists the virtual environments of the crashes the watcher
// remembers (the history of the last 90 days, else the JSON state of older
// versions), so the check covers the Pythons that actually crashed.
func recentVenvs(dbPath, statePath string) []string {
	var recent []report.Report
	if r, err := history.OpenReader(dbPath, time.Local); err == nil {
		crashes, err := r.Crashes(context.Background(), time.Now().AddDate(0, 0, -90), 2000)
		r.Close()
		if err == nil {
			for _, c := range crashes {
				recent = append(recent, c.Report)
			}
		}
	} else if st, err := monitor.LoadState(statePath); err == nil && st != nil {
		recent = st.Recent()
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range recent {
		if r.Venv != "" && !seen[r.Venv] && filepath.IsAbs(r.Venv) {
			seen[r.Venv] = true
			out = append(out, r.Venv)
		}
	}
	return out
}

// writeDoctorHTML writes the page atomically.
func writeDoctorHTML(path string, rep doctor.Report) error {
	var b strings.Builder
	if err := doctor.WriteHTML(&b, rep); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := atomicfile.WriteAtomic(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// DoctorPage runs the check (with the probe for "Test Fork Safety…") and
// writes the page the menu's "Check This Mac…" opens; it returns the page's
// path, support/check-this-mac.html, for Desktop.OpenDocument. It takes a
// second or two (up to ProbeTimeout per run with the probe): call it off
// the menu's event loop.
func DoctorPage(ctx context.Context, support string, probe bool, log *slog.Logger, db *history.DB) (string, error) {
	opts := doctorOptions(support, log)
	opts.Probe = probe
	rep, err := doctor.Run(ctx, opts)
	if err != nil {
		return "", err
	}
	recordProbes(db, rep, log)
	path := filepath.Join(support, "check-this-mac.html")
	return path, writeDoctorHTML(path, rep)
}

// recordProbes puts each probed interpreter's outcome into the history: OK
// when the child survived the fork with the environment apps get now.
func recordProbes(db *history.DB, rep doctor.Report, log *slog.Logger) {
	if db == nil {
		return
	}
	for _, in := range rep.Interpreters {
		if in.Probe == nil {
			continue
		}
		p := history.Probe{Time: rep.Time, Name: in.Path, OK: in.Probe.Without.Outcome == doctor.Survived, Detail: in.Probe.Verdict}
		if err := db.RecordProbe(p); err != nil && log != nil {
			log.Warn("history: record probe", "err", err)
		}
	}
}
