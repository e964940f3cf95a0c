package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forkwatch/forkwatch/internal/atomicfile"
	"github.com/forkwatch/forkwatch/monitor/history"
)

// historyDBPath is where the watcher records the history.
func historyDBPath() string { return filepath.Join(supportDir(), "history.db") }

// runHistory is `forkwatch history`: the recorded crashes as a table or
// JSON lines, counted per day, cause, program or project, or the history
// page. It opens the database read-only and takes no lock, so it runs while
// the app or `watch` is recording.
func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("history", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "one JSON object per line")
	sinceFlag := fs.String("since", "", "only crashes since then: 7d, 24h, 2w, or a date (2026-11-01); default all")
	by := fs.String("by", "", "count per day, cause, program, project or runtime instead of listing crashes")
	onlyRuntime := fs.String("runtime", "", "only crashes of one runtime: "+strings.Join(report.Runtimes, ", "))
	dbPath := fs.String("db", historyDBPath(), "history database")
	page := fs.Bool("page", false, "write the history page (HTML, works offline) and print its path")
	out := fs.String("out", "", "with --page: the file to write (default history.html beside the database)")
	limit := fs.Int("limit", 0, "list at most this many crashes, newest first (0: all)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "history: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	now := time.Now()
	since, err := parseSince(*sinceFlag, now)
	if err != nil {
		fmt.Fprintln(stderr, "history:", err)
		return 2
	}
	switch *by {
	case "", "day", "cause", "program", "project", "runtime":
	default:
		fmt.Fprintf(stderr, "history: --by %q: want day, cause, program, project or runtime\n", *by)
		return 2
	}
	if *onlyRuntime != "" && !report.IsRuntime(*onlyRuntime) {
		fmt.Fprintf(stderr, "history: --runtime %q: want one of %s\n", *onlyRuntime, strings.Join(report.Runtimes, ", "))
		return 2
	}
	r, err := history.OpenReader(*dbPath, time.Local)
	if err != nil {
		if errors.Is(err, history.ErrNoHistory) {
			fmt.Fprintf(stderr, "history: nothing recorded yet (%s does not exist; `forkwatch watch` or the app records crashes there)\n", *dbPath)
		} else {
			fmt.Fprintln(stderr, "history:", err)
		}
		return 1
	}
	defer r.Close()
	if err := r.OnlyRuntime(*onlyRuntime); err != nil {
		fmt.Fprintln(stderr, "history:", err)
		return 2
	}

	if *page {
		target, err := writeHistoryPage(ctx, r, *dbPath, *out, now, since)
		if err != nil {
			fmt.Fprintln(stderr, "history:", err)
			return 1
		}
		fmt.Fprintln(stdout, target)
		return 0
	}

	if err := printHistory(ctx, r, stdout, *by, since, *limit, *asJSON); err != nil {
		fmt.Fprintln(stderr, "history:", err)
		return 1
	}
	return 0
}

// writeHistoryPage writes the history page to out (default: history.html
// beside the database) and returns its absolute path. The menu's "Crash
// History…" item calls it and opens the file.
func writeHistoryPage(ctx context.Context, r *history.Reader, dbPath, out string, now, since time.Time) (string, error) {
	if out == "" {
		out = filepath.Join(filepath.Dir(dbPath), "history.html")
	}
	target, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := r.WritePage(ctx, &b, history.PageOptions{Now: now, Since: since}); err != nil {
		return "", err
	}
	if err := atomicfile.WriteAtomic(target, b.Bytes(), 0o600); err != nil {
		return "", fmt.Errorf("write page: %w (choose another file with --out)", err)
	}
	return target, nil
}

func printHistory(ctx context.Context, r *history.Reader, stdout io.Writer, by string, since time.Time, limit int, asJSON bool) error {
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	enc := json.NewEncoder(stdout)
	switch by {
	case "day":
		days, err := r.ByDay(ctx, since)
		if err != nil {
			return err
		}
		if asJSON {
			for _, d := range days {
				if err := enc.Encode(d); err != nil {
					return err
				}
			}
			return nil
		}
		fmt.Fprintln(tw, "DAY\tTOTAL\tFORK-SAFETY\tAFTER FORK\tOTHER\t")
		for _, d := range days {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", d.Day, d.Total, d.ForkSafety, d.ForkChild, d.Other)
		}
		return tw.Flush()
	case "cause", "program", "project", "runtime":
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
		tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "%s\tCOUNT\tLAST\n", strings.ToUpper(by))
		for _, g := range groups {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", orDash(report.Clean(g.Key, 200)), g.Count, historyTime(g.Last, time.Now()))
		}
		return tw.Flush()
	}
	crashes, err := r.Crashes(ctx, since, limit)
	if err != nil {
		return err
	}
	if asJSON {
		for _, c := range crashes {
			line := struct {
				*report.Report
				Seen string `json:"seen"`
			}{&c.Report, c.Seen.Format(time.RFC3339)}
			if err := enc.Encode(line); err != nil {
				return err
			}
		}
		return nil
	}
	tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tPROGRAM\tRUNTIME\tCAUSE\tPROJECT\tREPORT")
	now := time.Now()
	for _, c := range crashes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", historyTime(c.At, now), orDash(report.Clean(procWithPID(c.Process, c.PID), 80)),
			report.RuntimeOrOther(&c.Report), orDash(c.Cause), orDash(report.Clean(c.Project, 200)), orDash(report.Clean(c.Path, 400)))
	}
	return tw.Flush()
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
