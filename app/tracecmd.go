package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/app/service"
	"github.com/forkwatch/forkwatch/monitor/forktrace"
	"github.com/forkwatch/forkwatch/monitor/report"
	"github.com/spf13/cobra"
)

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
				c.code = runTraceSet(c.ctx, service.TraceManager(), verb, args[0], c.stdout, c.stderr)
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
			c.code = runTraceStatus(c.ctx, service.TraceManager(), args, statusJSON, c.stdout, c.stderr)
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
			c.code = runTraceShow(service.TraceManager(), pid, showJSON, c.stdout, c.stderr)
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
			c.code = runTraceSweep(service.TraceManager().SpoolDir(), c.stdout, c.stderr)
			return nil
		},
	}
	cmd.AddCommand(enable(true), enable(false), status, show, sweep)
	return cmd
}

// runTraceSweep is `trace sweep`: two passes with no grace period (the
// first notes which processes are gone, the second clears their records),
// then what it did (issue 32: it printed nothing).
func runTraceSweep(spool string, stdout, stderr io.Writer) int {
	sp := forktrace.NewSpool(spool)
	sp.Grace = time.Nanosecond
	var res forktrace.SweepResult
	cleared := 0
	for pass := 0; pass < 2; pass++ {
		r, err := sp.Sweep(time.Now().Add(time.Duration(pass) * time.Millisecond))
		if err != nil {
			fmt.Fprintln(stderr, "forkwatch trace sweep:", err)
			return exitFailed
		}
		cleared += r.Exited
		res = r
	}
	fmt.Fprintf(stdout, "cleared %d %s of exited children; kept %d of running ones (%s)\n",
		cleared, wording.Plural(cleared, "record", "records"), res.Kept, appinfo.TildePath(spool))
	return exitOK
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
	fmt.Fprintf(stdout, "pid %d forked by pid %d (%s, Python %s, %s)\n", rec.PID, rec.PPID, rec.Argv0, rec.Python, threadsWord(rec.Threads, rec.Threaded))
	if ok {
		fmt.Fprintln(stdout, rec.Describe(site))
	}
	for _, f := range rec.Stack {
		fmt.Fprintf(stdout, "  %s:%d in %s\n", f.File, f.Line, f.Function)
	}
	return exitOK
}

// threadsWord says how threaded the parent was at the fork: a count of 0
// or 1 is a single-threaded parent (issue 32: "0 threads"), unless the
// platform's check saw it threaded (pthread_is_threaded_np stays true
// once a thread ever ran).
func threadsWord(n int, threaded bool) string {
	switch {
	case n > 1:
		return fmt.Sprintf("%d threads", n)
	case threaded:
		return "threaded"
	default:
		return "single-threaded"
	}
}

// traceOnlyPython refuses, before anything is run, a fork-tracing target
// that is another runtime's interpreter (a Ruby from rbenv, php-fpm, perl,
// node) or a project of one without a venv: the tracer is a Python module
// installed through site-packages and os.register_at_fork, with no
// counterpart in those runtimes. Their crashes are still watched,
// attributed and announced; only the line that forked is Python's alone.
// The name is read as given and after symlinks (/usr/bin/ruby ->
// ruby3.1).
func traceOnlyPython(target string) error {
	names := []string{target}
	if real, err := filepath.EvalSymlinks(target); err == nil {
		names = append(names, real)
	}
	for _, n := range names {
		if rt := report.RuntimeOfName(n); rt != "" && rt != report.RuntimePython {
			return fmt.Errorf("%s is %s: fork tracing is for Python only (it hooks os.register_at_fork); %s crashes after fork() are still watched, attributed and announced", report.Clean(target, 1024), report.RuntimeLabel(rt), report.RuntimeLabel(rt))
		}
	}
	if fi, err := os.Stat(target); err == nil && fi.IsDir() {
		if _, err := os.Stat(filepath.Join(target, "bin", "python3")); err == nil {
			return nil
		}
		for marker, label := range map[string]string{"Gemfile": "a Ruby project", "composer.json": "a PHP project", "cpanfile": "a Perl project", "package.json": "a Node.js project"} {
			if _, err := os.Stat(filepath.Join(target, marker)); err == nil {
				return fmt.Errorf("%s is %s (%s) without a Python venv: fork tracing is for Python only; its crashes after fork() are still watched, attributed and announced", report.Clean(target, 1024), label, marker)
			}
		}
	}
	return nil
}
