package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/monitor/forktrace"
)

const traceUsage = `usage (fork tracing is for Python only):
  forkwatch trace enable PYTHON|VENV       install the fork tracer into that interpreter's or venv's site-packages
  forkwatch trace disable PYTHON|VENV      remove it
  forkwatch trace status [--json] [PYTHON|VENV]...
                                           tracers Forkwatch installed or finds, and their state
  forkwatch trace show [--json] PID        the fork record of a child process
  forkwatch trace sweep                    clear the records of children that exited (the app does this every minute)
`

// traceManager is the tracer manager for the user's support folder.
func traceManager() *forktrace.Manager {
	return forktrace.New(supportDir(), home())
}

// runTrace is `forkwatch trace`: the opt-in fork tracer. Exit codes: 0
// done, 1 failed, 2 usage error.
func runTrace(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, traceUsage)
		return 2
	}
	m := traceManager()
	switch args[0] {
	case "enable", "disable":
		if len(args) != 2 || strings.HasPrefix(args[1], "-") {
			fmt.Fprint(stderr, traceUsage)
			return 2
		}
		var (
			e   forktrace.Entry
			err error
		)
		if args[0] == "enable" {
			if err := forkTracingRefused(loadPolicy(nil).get()); err != nil {
				fmt.Fprintln(stderr, "trace:", err)
				return 1
			}
			if err := traceOnlyPython(args[1]); err != nil {
				fmt.Fprintf(stderr, "trace enable: %v\n", err)
				return 1
			}
			e, err = m.Enable(ctx, args[1])
		} else {
			e, err = m.Disable(ctx, args[1])
		}
		if err != nil {
			fmt.Fprintf(stderr, "trace %s: %v\n", args[0], err)
			return 1
		}
		if args[0] == "enable" {
			fmt.Fprintf(stdout, "Fork tracing on for %s (Python %s): %s\nRecords go to %s; a crash of a traced child names the line that forked.\n",
				e.Target, e.Version, e.SitePackages, m.SpoolDir())
		} else {
			fmt.Fprintf(stdout, "Fork tracing off for %s\n", e.Target)
		}
		return 0
	case "status":
		fs := flag.NewFlagSet("trace status", flag.ContinueOnError)
		fs.SetOutput(stderr)
		asJSON := fs.Bool("json", false, "one JSON object per line")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		entries, err := m.Status(ctx, fs.Args())
		for _, e := range entries {
			if *asJSON {
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
		if !*asJSON && len(entries) == 0 {
			fmt.Fprintln(stdout, "No interpreters or venvs known; enable one with: forkwatch trace enable PYTHON|VENV")
		}
		if err != nil {
			fmt.Fprintln(stderr, "trace status:", err)
			return 1
		}
		return 0
	case "show":
		fs := flag.NewFlagSet("trace show", flag.ContinueOnError)
		fs.SetOutput(stderr)
		asJSON := fs.Bool("json", false, "the record as JSON")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		pid, err := strconv.Atoi(fs.Arg(0))
		if fs.NArg() != 1 || err != nil || pid <= 0 {
			fmt.Fprint(stderr, traceUsage)
			return 2
		}
		rec, err := forktrace.Lookup(m.SpoolDir(), pid)
		if err != nil {
			if errors.Is(err, forktrace.ErrNoRecord) {
				fmt.Fprintf(stderr, "trace show: no fork record for pid %d in %s\n", pid, m.SpoolDir())
			} else {
				fmt.Fprintln(stderr, "trace show:", err)
			}
			return 1
		}
		if *asJSON {
			b, _ := json.Marshal(rec)
			stdout.Write(append(b, '\n'))
			return 0
		}
		site, ok := rec.ForkSite()
		fmt.Fprintf(stdout, "pid %d forked by pid %d (%s, Python %s, %d threads)\n", rec.PID, rec.PPID, rec.Argv0, rec.Python, rec.Threads)
		if ok {
			fmt.Fprintln(stdout, rec.Describe(site))
		}
		for _, f := range rec.Stack {
			fmt.Fprintf(stdout, "  %s:%d in %s\n", f.File, f.Line, f.Function)
		}
		return 0
	case "sweep":
		if len(args) != 1 {
			fmt.Fprint(stderr, traceUsage)
			return 2
		}
		// Asked by hand: no grace period. The first pass notes which
		// processes are gone, the second clears their records.
		sp := forktrace.NewSpool(m.SpoolDir())
		sp.Grace = time.Nanosecond
		sweepForkSpool(ctx, sp, 0, slog.Default())
		time.Sleep(time.Millisecond)
		sweepForkSpool(ctx, sp, 0, slog.Default())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, traceUsage)
		return 0
	}
	fmt.Fprintf(stderr, "trace: unknown subcommand %q\n%s", args[0], traceUsage)
	return 2
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

// traceViews is the Fork Tracing submenu's data: the interpreters and venvs
// Forkwatch knows (its registry, then the usual places), check marks read
// back from site-packages, those it installed first. It runs no
// interpreter. Deleted venvs are left out.
func traceViews(ctx context.Context, m *forktrace.Manager, extra ...string) []TraceView {
	entries, err := m.Status(ctx, extra)
	if err != nil {
		slog.Warn("fork tracing status", "err", err)
	}
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.Registered != b.Registered {
			return a.Registered
		}
		return a.Enabled() && !b.Enabled()
	})
	var out []TraceView
	for _, e := range entries {
		if e.State == forktrace.StateGone || e.State == forktrace.StateNotRun {
			continue
		}
		label := tildePath(e.Target)
		if e.Version != "" {
			label += " (Python " + e.Version + ")"
		}
		switch e.State {
		case forktrace.StatePartial:
			label += " (half installed)"
		case forktrace.StateOther:
			label += " (another Forkwatch's tracer)"
		}
		out = append(out, TraceView{Label: label, Target: e.Target, On: e.Enabled()})
	}
	return out
}

// setTrace turns tracing on or off for a submenu entry; the caller reads
// the state back with traceViews.
func setTrace(ctx context.Context, m *forktrace.Manager, target string, on bool) error {
	var err error
	if on {
		if err := forkTracingRefused(loadPolicy(nil).get()); err != nil {
			return err
		}
		_, err = m.Enable(ctx, target)
	} else {
		_, err = m.Disable(ctx, target)
	}
	return err
}
