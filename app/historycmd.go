package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/app/pages"
	"github.com/forkwatch/forkwatch/monitor/report"

	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/spf13/cobra"
)

// defaultHistoryLimit is how many crashes plain `history` lists; a last
// line says how many more there are and how to see them.
const defaultHistoryLimit = 50

// historyFlags are history's flags.
type historyFlags struct {
	asJSON, page, all bool
	since, by, db     string
	runtime           string
	out               string
	limit             int
}

// historyCmd is `forkwatch history`.
func (c *cli) historyCmd() *cobra.Command {
	var o historyFlags
	cmd := &cobra.Command{
		Use:   "history [--json] [--since 7d|24h|DATE] [--by day|cause|program|project|runtime] [--runtime R] [--limit N|--all] [--db PATH] [--page [--out FILE]]",
		Short: "the recorded crashes: a list, counts per day, cause, program or project, or the history page",
		Long: `List the recorded crashes, newest first (the most recent 50 unless --limit N or --all),
count them per day, cause, program or project (--by), or write the history page (--page).
It reads the database without a lock, so it runs while the app or watch records.`,
		Example: "  forkwatch history --since 7d\n  forkwatch history --by program\n  forkwatch history --page",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := historyConflicts(cmd, o); err != nil {
				return err
			}
			switch {
			case cmd.Flags().Changed("limit") && o.limit <= 0:
				return usagef("--limit %d: want a positive number of crashes (or --all for every one)", o.limit)
			case o.all:
				o.limit = 0
			case !cmd.Flags().Changed("limit") && o.by == "":
				o.limit = -1 // the default: the most recent 50, with a note on the rest
			case !cmd.Flags().Changed("limit"):
				o.limit = 0 // --by: every group
			}
			c.code = runHistoryWith(c.ctx, o, c.stdout, c.stderr)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.asJSON, "json", false, "one JSON object per line")
	f.StringVar(&o.since, "since", "", "only crashes since then: 7d, 24h, 2w, or a date (2026-11-01); default all")
	f.StringVar(&o.by, "by", "", "count per day, cause, program, project or runtime instead of listing crashes")
	f.StringVar(&o.runtime, "runtime", "", "only crashes of one runtime: "+strings.Join(report.Runtimes, ", "))
	f.StringVar(&o.db, "db", appinfo.HistoryDBPath(), "history database")
	f.BoolVar(&o.page, "page", false, "write the history page (HTML, works offline) and print its path")
	f.StringVar(&o.out, "out", "", "with --page: the file to write (default history.html beside the database)")
	f.IntVar(&o.limit, "limit", defaultHistoryLimit, "list at most this many crashes (or groups with --by), newest first")
	f.BoolVar(&o.all, "all", false, "list every crash")
	cmd.MarkFlagsMutuallyExclusive("limit", "all")
	cmd.MarkFlagFilename("db", "db")
	cmd.MarkFlagFilename("out", "html")
	cmd.RegisterFlagCompletionFunc("by", cobra.FixedCompletions([]string{"day", "cause", "program", "project", "runtime"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("runtime", cobra.FixedCompletions(report.Runtimes, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// historyConflicts: --page writes the page, so the listing's flags mean
// nothing with it (--json, --by, --limit, --all), and --out names the
// page's file, so it needs --page (the listing goes to stdout: redirect
// it). Each is a usage error rather than a flag silently ignored.
func historyConflicts(cmd *cobra.Command, o historyFlags) error {
	if !o.page {
		if cmd.Flags().Changed("out") {
			return usagef("--out is the history page's file: add --page (forkwatch history --page --out %s); a listing goes to stdout, redirect it", o.out)
		}
		return nil
	}
	for _, f := range []string{"json", "by", "limit", "all"} {
		if cmd.Flags().Changed(f) {
			return usagef("--page writes the history page; --%s is for the listing: drop one of them", f)
		}
	}
	return nil
}

// runHistory is history with its arguments unparsed (tests).
func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{ctx: ctx, stdout: stdout, stderr: stderr}
	return c.execute(append([]string{"history"}, args...))
}

// runHistoryWith is `forkwatch history`: the recorded crashes as a table
// or JSON lines, counted per day, cause, program or project, or the
// history page. It opens the database read-only and takes no lock, so it
// runs while the app or `watch` is recording. A limit of -1 is the
// default listing (the most recent 50 and a note on the rest); 0 or --all
// is every crash.
func runHistoryWith(ctx context.Context, o historyFlags, stdout, stderr io.Writer) int {
	now := time.Now()
	since, err := parseSince(o.since, now)
	if err != nil {
		fmt.Fprintln(stderr, "forkwatch history:", err)
		return exitUsage
	}
	switch o.by {
	case "", "day", "cause", "program", "project", "runtime":
	default:
		fmt.Fprintf(stderr, "forkwatch history: --by %q: want day, cause, program, project or runtime\n", o.by)
		return exitUsage
	}
	if o.runtime != "" && !report.IsRuntime(o.runtime) {
		fmt.Fprintf(stderr, "forkwatch history: --runtime %q: want one of %s\n", o.runtime, strings.Join(report.Runtimes, ", "))
		return exitUsage
	}
	if o.page && o.out != "" {
		abs, err := outputFile("--out", o.out)
		if err != nil {
			fmt.Fprintln(stderr, "forkwatch history:", err)
			return exitFailed
		}
		o.out = abs
	}
	r, err := history.OpenReader(o.db, time.Local)
	if err != nil {
		switch {
		case errors.Is(err, history.ErrNoHistory):
			fmt.Fprintf(stderr, "forkwatch history: nothing recorded yet (%s does not exist; `forkwatch watch` or the app records crashes there)\n", o.db)
		case errors.Is(err, history.ErrNotHistory):
			fmt.Fprintf(stderr, "forkwatch history: --db %s is not a Forkwatch history database (not SQLite, damaged, or another program's); Forkwatch records into %s\n", o.db, appinfo.HistoryDBPath())
		default:
			fmt.Fprintln(stderr, "forkwatch history:", err)
		}
		return exitFailed
	}
	defer r.Close()
	if err := r.OnlyRuntime(o.runtime); err != nil {
		fmt.Fprintln(stderr, "forkwatch history:", err)
		return exitUsage
	}

	if o.page {
		target, err := pages.WriteHistoryPage(ctx, r, o.db, o.out, now, since)
		if err != nil {
			fmt.Fprintln(stderr, "forkwatch history:", err)
			return exitFailed
		}
		fmt.Fprintln(stdout, target)
		return exitOK
	}

	if err := printHistory(ctx, r, stdout, o.by, since, o.limit, o.asJSON); err != nil {
		fmt.Fprintln(stderr, "forkwatch history:", err)
		return exitFailed
	}
	return exitOK
}

// printHistory prints the history: counts per day, or per cause, program,
// project or runtime (by), or the crashes themselves; as a table or as
// JSON lines.
func printHistory(ctx context.Context, r *history.Reader, stdout io.Writer, by string, since time.Time, limit int, asJSON bool) error {
	switch by {
	case "day":
		return printByDay(ctx, r, stdout, since, asJSON)
	case "cause", "program", "project", "runtime":
		return printGroups(ctx, r, stdout, by, since, limit, asJSON)
	}
	defaulted := limit == -1
	if defaulted {
		limit = defaultHistoryLimit
	}
	if asJSON {
		shown, err := printCrashesJSON(ctx, r, stdout, since, limit)
		if err != nil {
			return err
		}
		// The note goes to stderr: stdout stays one object per line.
		return moreNote(ctx, r, os.Stderr, since, shown, defaulted)
	}
	return printCrashRows(ctx, r, stdout, since, limit, defaulted)
}

// printByDay is `history --by day`.
func printByDay(ctx context.Context, r *history.Reader, stdout io.Writer, since time.Time, asJSON bool) error {
	days, err := r.ByDay(ctx, since)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		for _, d := range days {
			if err := enc.Encode(d); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "DAY\tTOTAL\tFORK-SAFETY\tAFTER FORK\tOTHER\t")
	for _, d := range days {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", d.Day, d.Total, d.ForkSafety, d.ForkChild, d.Other)
	}
	return tw.Flush()
}

// printGroups is `history --by cause|program|project|runtime`.
func printGroups(ctx context.Context, r *history.Reader, stdout io.Writer, by string, since time.Time, limit int, asJSON bool) error {
	groups, err := r.GroupBy(ctx, by, since, limit)
	if err != nil {
		return err
	}
	if asJSON {
		for _, g := range groups {
			// The key first, named after --by: {"program":"gunicorn","count":3,"last":"..."}.
			k, _ := json.Marshal(by)
			v, _ := json.Marshal(g.Key)
			if _, err := fmt.Fprintf(stdout, "{%s:%s,\"count\":%d,\"last\":%q}\n", k, v, g.Count, g.Last.Format(time.RFC3339)); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tCOUNT\tLAST\n", strings.ToUpper(by))
	for _, g := range groups {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", wording.OrDash(report.Clean(g.Key, 200)), g.Count, historyTime(g.Last, time.Now()))
	}
	return tw.Flush()
}

// printCrashesJSON writes the crashes as JSON lines, newest first, and
// returns how many it wrote.
func printCrashesJSON(ctx context.Context, r *history.Reader, stdout io.Writer, since time.Time, limit int) (int, error) {
	shown := 0
	bw := bufio.NewWriter(stdout)
	err := r.EachCrashJSON(ctx, since, limit, func(js []byte, seen time.Time) error {
		shown++
		// The stored report is the inspect --json object: "seen" is
		// spliced in before its closing brace, nothing re-encoded.
		js = bytes.TrimSpace(js)
		if len(js) < 2 || js[0] != '{' || js[len(js)-1] != '}' {
			return fmt.Errorf("stored report is not a JSON object: %.40q", js)
		}
		bw.Write(js[:len(js)-1])
		if len(js) > 2 {
			bw.WriteByte(',')
		}
		fmt.Fprintf(bw, "\"seen\":%q}\n", seen.Format(time.RFC3339))
		if shown == 1 {
			return bw.Flush()
		}
		return nil
	})
	if err == nil {
		err = bw.Flush()
	}
	return shown, err
}

// printCrashRows writes the crash listing. Fixed column widths, so that
// the first line comes at once and the columns never shift part way down
// (tabwriter would hold every row to measure them).
func printCrashRows(ctx context.Context, r *history.Reader, stdout io.Writer, since time.Time, limit int, defaulted bool) error {
	shown := 0
	bw := bufio.NewWriter(stdout)
	now := time.Now()
	fmt.Fprintln(bw, historyRow("TIME", "PROGRAM", "RUNTIME", "CAUSE", "PROJECT", "REPORT"))
	bw.Flush()
	err := r.EachCrashRow(ctx, since, limit, func(c history.CrashRow) error {
		shown++
		_, err := fmt.Fprintln(bw, historyRow(historyTime(c.At, now), wording.OrDash(report.Clean(wording.ProcWithPID(c.Process, c.PID), 80)),
			wording.OrDash(c.Runtime), wording.OrDash(c.Cause), wording.OrDash(report.Clean(appinfo.TildePath(c.Project), 200)), wording.OrDash(report.Clean(c.ReportPath, 400))))
		if shown == 1 {
			bw.Flush()
		}
		return err
	})
	if err != nil {
		return err
	}
	if err := moreNote(ctx, r, bw, since, shown, defaulted); err != nil {
		return err
	}
	return bw.Flush()
}

// Column widths of the crash listing: a time with its year ("Jan _2 2006
// 15:04"), a program with its pid, the longest cause, a project.
const (
	colTime    = 17
	colProgram = 28
	colRuntime = 7
	colCause   = 19
	colProject = 24
)

// historyRow lays out one line of the listing; a value too long for its
// column is shortened with "…" (the program keeps its start, the project its
// end); the report path, last, is never cut.
func historyRow(at, program, runtime, cause, project, path string) string {
	return fmt.Sprintf("%-*s  %-*s  %-*s  %-*s  %-*s  %s", colTime, at, colProgram, cutEnd(program, colProgram),
		colRuntime, cutEnd(runtime, colRuntime), colCause, cutEnd(cause, colCause), colProject, cutStart(project, colProject), path)
}

func cutEnd(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func cutStart(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}

// moreNote says, after the default listing, how many crashes were left out
// and how to see them.
func moreNote(ctx context.Context, r *history.Reader, w io.Writer, since time.Time, shown int, defaulted bool) error {
	if !defaulted || shown < defaultHistoryLimit {
		return nil
	}
	total, err := r.CountCrashes(ctx, since)
	if err != nil {
		return err
	}
	if more := total - shown; more > 0 {
		_, err = fmt.Fprintf(w, "… and %d older %s (%d in all): see them with --limit N or --all\n", more, wording.Plural(more, "crash", "crashes"), total)
	}
	return err
}

// historyTime shows the year only when it is not this year.
func historyTime(t, now time.Time) string {
	if t.Year() == now.Year() {
		return t.Format("Jan _2 15:04")
	}
	return t.Format("Jan _2 2006 15:04")
}

// parseSince reads --since: a span back from now (90m, 24h, 7d, 2w), a
// date (local midnight), or an RFC 3339 time. Empty means all.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if n := len(s); n >= 2 {
		if v, err := strconv.Atoi(s[:n-1]); err == nil && v >= 0 {
			switch s[n-1] {
			case 'd':
				return now.AddDate(0, 0, -v), nil
			case 'w':
				return now.AddDate(0, 0, -7*v), nil
			}
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want a span (7d, 24h, 2w) or a date (2026-11-01)", s)
}
