package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"

	"github.com/forkwatch/forkwatch/monitor/history"
)

// seedHistoryDB records n crashes per day for the given days back from now,
// cycling through causes, programs and projects, through the Store path.
func seedHistoryDB(tb testing.TB, path string, now time.Time, days, perDay int) {
	tb.Helper()
	d, err := history.Open(path, history.Options{PruneEvery: -1})
	if err != nil {
		tb.Fatal(err)
	}
	causes := []string{report.CauseForkSafety, report.CauseForkChild, report.CauseCrash}
	programs := []string{"python3.12", "gunicorn", "celery"}
	i := 0
	for day := days - 1; day >= 0; day-- {
		base := time.Date(now.Year(), now.Month(), now.Day()-day, 0, 0, 0, 0, time.Local)
		for k := 0; k < perDay; k++ {
			at := base.Add(time.Duration(k%1440) * time.Minute)
			r := &report.Report{
				ID: fmt.Sprintf("incident:%08d", i), Path: fmt.Sprintf("/reports/%s-%08d.ips", programs[i%3], i),
				Format: "ips", Process: programs[i%3], PID: 1000 + i%50000, Time: at.Format(time.RFC3339),
				Cause: causes[i%3], Python: true, Project: fmt.Sprintf("/Users/a/proj%d", i%7), Advice: "use spawn",
				Evidence: []string{"crashed on child side of fork pre-exec"},
			}
			d.MarkSeen(r, at)
			i++
			if i%100 == 0 {
				if err := d.Save(); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	if err := d.Close(); err != nil {
		tb.Fatal(err)
	}
}

func runHistoryArgs(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runHistory(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestHistoryCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "history.db")
	now := time.Now()
	seedHistoryDB(t, db, now, 10, 6) // 60 crashes over 10 days
	checkHistoryByDay(t, db, now)
	checkHistoryGroups(t, db)
	checkHistoryListing(t, db, now)
	checkHistoryPage(t, dir, db)
	checkHistoryErrors(t, dir, db)
}

// checkHistoryByDay: --by day as a table and as JSON lines, --since.
func checkHistoryByDay(t *testing.T, db string, now time.Time) {
	t.Helper()
	out, errs, code := runHistoryArgs(t, "--db", db, "--by", "day")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 11 || !strings.Contains(lines[0], "FORK-SAFETY") || !strings.Contains(lines[10], now.Format(time.DateOnly)) {
		t.Errorf("--by day table:\n%s", out)
	}

	out, _, code = runHistoryArgs(t, "--db", db, "--by", "day", "--json", "--since", "3d")
	var total int
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var d history.Day
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if d.ForkSafety+d.ForkChild+d.Other != d.Total {
			t.Errorf("causes do not add up: %+v", d)
		}
		total += d.Total
		n++
	}
	if code != 0 || n != 4 || total != 24 {
		t.Errorf("--since 3d --json: %d days, %d crashes, exit %d:\n%s", n, total, code, out)
	}
}

// checkHistoryGroups: --by cause, project, program.
func checkHistoryGroups(t *testing.T, db string) {
	t.Helper()
	out, _, _ := runHistoryArgs(t, "--db", db, "--by", "cause", "--json")
	if strings.Count(out, "\n") != 3 || !strings.Contains(out, `"cause":"fork-safety","count":20`) {
		t.Errorf("--by cause --json:\n%s", out)
	}
	out, _, _ = runHistoryArgs(t, "--db", db, "--by", "project")
	if !strings.HasPrefix(out, "PROJECT") || strings.Count(out, "/Users/a/proj") != 7 {
		t.Errorf("--by project:\n%s", out)
	}
	out, _, _ = runHistoryArgs(t, "--db", db, "--by", "program", "--json")
	if !strings.Contains(out, `"program":"gunicorn","count":20`) {
		t.Errorf("--by program:\n%s", out)
	}
}

// checkHistoryListing: the crashes as JSON lines with --limit, and since
// a date.
func checkHistoryListing(t *testing.T, db string, now time.Time) {
	t.Helper()
	out, _, _ := runHistoryArgs(t, "--db", db, "--json", "--limit", "2")
	ls := strings.Split(strings.TrimSpace(out), "\n")
	var r struct {
		report.Report
		Seen string `json:"seen"`
	}
	if len(ls) != 2 || json.Unmarshal([]byte(ls[0]), &r) != nil || r.ID != "incident:00000059" || r.Seen == "" || len(r.Evidence) != 1 {
		t.Errorf("--json --limit 2: %+v\n%s", r, out)
	}
	out, _, _ = runHistoryArgs(t, "--db", db, "--since", now.Format(time.DateOnly))
	if got := strings.Count(out, "\n"); got != 7 || !strings.Contains(out, "/reports/") {
		t.Errorf("list since today: %d lines\n%s", got, out)
	}
}

// checkHistoryPage: --page writes beside the database, or to --out.
func checkHistoryPage(t *testing.T, dir, db string) {
	t.Helper()
	out, errs, code := runHistoryArgs(t, "--db", db, "--page")
	page := strings.TrimSpace(out)
	if code != 0 || page != filepath.Join(dir, "history.html") {
		t.Fatalf("--page: %q exit %d %s", out, code, errs)
	}
	if data, err := os.ReadFile(page); err != nil || !bytes.Contains(data, []byte(`id="timeline"`)) {
		t.Errorf("page not written: %v", err)
	}
	custom := filepath.Join(dir, "sub", "..", "p.html")
	out, _, code = runHistoryArgs(t, "--db", db, "--page", "--out", custom)
	if code != 0 || strings.TrimSpace(out) != filepath.Join(dir, "p.html") {
		t.Errorf("--page --out: %q %d", out, code)
	}
}

// checkHistoryErrors: usage mistakes exit 2, a missing or bad database 1,
// and a bad database is left as it was.
func checkHistoryErrors(t *testing.T, dir, db string) {
	t.Helper()
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--db", db, "--by", "week"}, 2, "want day, cause"},
		{[]string{"--db", db, "--since", "yesterday"}, 2, "--since"},
		{[]string{"--db", db, "extra"}, 2, "unexpected"},
		{[]string{"--db", filepath.Join(dir, "none.db")}, 1, "nothing recorded yet"},
	} {
		_, errs, code := runHistoryArgs(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, %q", c.args, code, errs)
		}
	}
	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("junk"), 2000), 0o600)
	// A Forkwatch message, not SQLite's "file is not a database (26)".
	if _, errs, code := runHistoryArgs(t, "--db", garbage); code != 1 || !strings.Contains(errs, "--db "+garbage+" is not a Forkwatch history database") || strings.Contains(errs, "(26)") {
		t.Errorf("garbage db: exit %d %q", code, errs)
	}
	// A page into a folder that does not exist: exit 1 naming the folder,
	// which is not created (issue 32).
	missing := filepath.Join(dir, "no", "such")
	if _, errs, code := runHistoryArgs(t, "--db", db, "--page", "--out", filepath.Join(missing, "x.html")); code != 1 || !strings.Contains(errs, "the folder "+missing+" does not exist") {
		t.Errorf("--page --out into a missing folder: exit %d %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); err == nil {
		t.Error("--page --out created the missing folder")
	}
	if data, _ := os.ReadFile(garbage); len(data) != 8000 {
		t.Error("the read-only command must not touch a bad database")
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.Local)
	for in, want := range map[string]time.Time{
		"":           {},
		"7d":         now.AddDate(0, 0, -7),
		"2w":         now.AddDate(0, 0, -14),
		"36h":        now.Add(-36 * time.Hour),
		"2026-11-01": time.Date(2026, 11, 1, 0, 0, 0, 0, time.Local),
	} {
		got, err := parseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"d", "-3d", "soon", "2026-13-01"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("parseSince(%q) accepted", bad)
		}
	}
}
