package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/app/pages"

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
	if *htmlOut != "" {
		abs, err := outputFile("--html", *htmlOut)
		if err != nil {
			fmt.Fprintln(stderr, "forkwatch doctor:", err)
			return exitFailed
		}
		*htmlOut = abs
	}
	opts := pages.DoctorOptions(appinfo.SupportDir(), slog.Default())
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
			pages.RecordProbes(db, rep, slog.Default())
			db.Close()
		}
	}
	if *htmlOut != "" {
		if err := pages.WriteDoctorHTML(*htmlOut, rep); err != nil {
			fmt.Fprintln(stderr, "forkwatch doctor:", err)
			return 1
		}
		// stderr: stdout stays the report (one object per line with --json).
		fmt.Fprintln(stderr, "forkwatch doctor: wrote", *htmlOut)
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
