package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/monitor/forktrace"
	"github.com/spf13/cobra"
)

// traceManager is the tracer manager for the user's support folder.
func traceManager() *forktrace.Manager {
	return forktrace.New(appinfo.SupportDir(), appinfo.Home())
}

// traceCmd is `forkwatch trace`: the opt-in fork tracer, one subcommand
// per action.
func (c *cli) traceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trace enable|disable|status|show|sweep",
		Short: "opt-in fork tracing: the line of Python that forked (Python only)",
		Long: `Install a small tracer into a venv's or interpreter's site-packages so that a crash of a
forked child names the line of Python that forked (file:line in function, via the tool).
Fork tracing is for Python only: Ruby, PHP, Perl and Node interpreters are refused.`,
		Args: subcommandArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return nil },
	}
	enable := func(on bool) *cobra.Command {
		verb, short := "enable", "install the fork tracer into that interpreter's or venv's site-packages"
		if !on {
			verb, short = "disable", "remove the fork tracer"
		}
		return &cobra.Command{
			Use:   verb + " PYTHON|VENV",
			Short: short,
			Args:  exactArgs(1, "one interpreter or venv folder"),
			RunE: func(cmd *cobra.Command, args []string) error {
				c.code = runTraceSet(c.ctx, traceManager(), verb, args[0], c.stdout, c.stderr)
				return nil
			},
			ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				return nil, cobra.ShellCompDirectiveDefault
			},
		}
	}
	var statusJSON, showJSON bool
	status := &cobra.Command{
		Use:   "status [--json] [PYTHON|VENV]...",
		Short: "tracers Forkwatch installed or finds, and their state",
		RunE: func(cmd *cobra.Command, args []string) error {
			c.code = runTraceStatus(c.ctx, traceManager(), args, statusJSON, c.stdout, c.stderr)
			return nil
		},
	}
	status.Flags().BoolVar(&statusJSON, "json", false, "one JSON object per line")
	show := &cobra.Command{
		Use:   "show [--json] PID",
		Short: "the fork record of a child process",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one PID, got %d %s", len(args), wording.Plural(len(args), "argument", "arguments"))
			}
			if pid, err := strconv.Atoi(args[0]); err != nil || pid <= 0 {
				return usagef("%q is not a process id (a positive number)", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			pid, _ := strconv.Atoi(args[0])
			c.code = runTraceShow(traceManager(), pid, showJSON, c.stdout, c.stderr)
			return nil
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "the record as JSON")
	sweep := &cobra.Command{
		Use:   "sweep",
		Short: "clear the records of children that exited (the app does this every minute)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Asked by hand: no grace period. The first pass notes which
			// processes are gone, the second clears their records.
			sp := forktrace.NewSpool(traceManager().SpoolDir())
			sp.Grace = time.Nanosecond
			sweepForkSpool(c.ctx, sp, 0, slog.Default())
			time.Sleep(time.Millisecond)
			sweepForkSpool(c.ctx, sp, 0, slog.Default())
			return nil
		},
	}
	cmd.AddCommand(enable(true), enable(false), status, show, sweep)
	return cmd
}

// runTraceSet is `trace enable|disable TARGET`.
func runTraceSet(ctx context.Context, m *forktrace.Manager, verb, target string, stdout, stderr io.Writer) int {
	if verb == "enable" {
		if err := policy.ForkTracingRefused(policy.Load(nil).Get()); err != nil {
			fmt.Fprintf(stderr, "forkwatch trace %s: %v\n", verb, err)
			return exitFailed
		}
		if err := traceOnlyPython(target); err != nil {
			fmt.Fprintf(stderr, "forkwatch trace %s: %v\n", verb, err)
			return exitFailed
		}
	}
	if why := notATraceTarget(target); why != "" {
		fmt.Fprintf(stderr, "forkwatch trace %s: %s\n", verb, why)
		return exitUsage
	}
	var (
		e   forktrace.Entry
		err error
	)
	if verb == "enable" {
		e, err = m.Enable(ctx, target)
	} else {
		e, err = m.Disable(ctx, target)
	}
	if err != nil {
		fmt.Fprintf(stderr, "forkwatch trace %s: %s\n", verb, oneLine(err.Error()))
		return exitFailed
	}
	if verb == "enable" {
		fmt.Fprintf(stdout, "Fork tracing on for %s (Python %s): %s\nRecords go to %s; a crash of a traced child names the line that forked.\n",
			e.Target, e.Version, e.SitePackages, m.SpoolDir())
	} else {
		fmt.Fprintf(stdout, "Fork tracing off for %s\n", e.Target)
	}
	return exitOK
}

// notATraceTarget says why target cannot be an interpreter or a venv, or
// returns "": a missing path, a Python script (forker.py: the user meant
// the Python that runs it), a file that is not executable.
func notATraceTarget(target string) string {
	fi, err := os.Stat(target)
	if err != nil {
		return fmt.Sprintf("%s: %s; name a venv folder (e.g. ~/src/shop/.venv) or an interpreter (e.g. the output of `command -v python3`)", target, wording.StatReason(err))
	}
	if fi.IsDir() {
		return ""
	}
	switch strings.ToLower(filepath.Ext(target)) {
	case ".py", ".pyw", ".pyc", ".ipynb":
		return fmt.Sprintf("%s is a Python script, not an interpreter: trace the venv or interpreter that runs it (e.g. forkwatch trace enable .venv, or forkwatch trace enable \"$(command -v python3)\")", target)
	}
	if fi.Mode()&0o111 == 0 {
		return fmt.Sprintf("%s is not executable, so not an interpreter: name a venv folder or a python executable", target)
	}
	return ""
}

// runTraceStatus is `trace status [--json] [TARGET]...`.
func runTraceStatus(ctx context.Context, m *forktrace.Manager, targets []string, asJSON bool, stdout, stderr io.Writer) int {
	entries, err := m.Status(ctx, targets)
	for _, e := range entries {
		if asJSON {
			writeJSONLine(stdout, e)
			continue
		}
		line := fmt.Sprintf("%-9s %s", e.State, e.Target)
		if e.Version != "" {
			line += " (Python " + e.Version + ")"
		}
		if e.Detail != "" {
			line += ": " + e.Detail
		}
		if !e.Registered && e.State != forktrace.StateDisabled && e.State != forktrace.StateNotRun {
			line += " [not installed by this Forkwatch]"
		}
		fmt.Fprintln(stdout, line)
	}
	if !asJSON && len(entries) == 0 {
		fmt.Fprintln(stdout, "No interpreters or venvs known; enable one with: forkwatch trace enable PYTHON|VENV")
	}
	if err != nil {
		fmt.Fprintln(stderr, "forkwatch trace status:", oneLine(err.Error()))
		return exitFailed
	}
	return exitOK
}

// runTraceShow is `trace show [--json] PID`.
func runTraceShow(m *forktrace.Manager, pid int, asJSON bool, stdout, stderr io.Writer) int {
	rec, err := forktrace.Lookup(m.SpoolDir(), pid)
	if err != nil {
		if errors.Is(err, forktrace.ErrNoRecord) {
			fmt.Fprintf(stderr, "forkwatch trace show: no fork record for pid %d in %s (is its venv traced? see forkwatch trace status)\n", pid, m.SpoolDir())
		} else {
			fmt.Fprintln(stderr, "forkwatch trace show:", err)
		}
		return exitFailed
	}
	if asJSON {
		b, _ := json.Marshal(rec)
		stdout.Write(append(b, '\n'))
		return exitOK
	}
	site, ok := rec.ForkSite()
	fmt.Fprintf(stdout, "pid %d forked by pid %d (%s, Python %s, %d %s)\n", rec.PID, rec.PPID, rec.Argv0, rec.Python, rec.Threads, wording.Plural(rec.Threads, "thread", "threads"))
	if ok {
		fmt.Fprintln(stdout, rec.Describe(site))
	}
	for _, f := range rec.Stack {
		fmt.Fprintf(stdout, "  %s:%d in %s\n", f.File, f.Line, f.Function)
	}
	return exitOK
}

// sweepForkSpool clears the spool records of traced children that exited
// without a crash: now, then every interval until ctx is done (once when
// every <= 0). The watch command and the app run it with every =
// time.Minute; with no tracer enabled it costs a stat per interval, and
// with an unchanged record file it reads only the slots of live children.
func sweepForkSpool(ctx context.Context, sp *forktrace.Spool, every time.Duration, log *slog.Logger) {
	for {
		res, err := sp.Sweep(time.Now())
		if err != nil {
			log.Warn("fork tracer spool", "err", err)
		} else if res.Exited > 0 {
			log.Debug("fork tracer spool swept", "cleared", res.Exited, "kept", res.Kept)
		}
		if every <= 0 {
			return
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
