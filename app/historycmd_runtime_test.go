package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// `history --by runtime` counts per runtime, `--runtime ruby` keeps the
// Ruby crashes in the listing and in every count, and a runtime that does
// not exist is refused with the list of those that do.
func TestHistoryByRuntime(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "history.db")
	d, err := history.Open(db, history.Options{PruneEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	seed := []struct{ process, rt string }{
		{"ruby", report.RuntimeRuby}, {"ruby", report.RuntimeRuby}, {"ruby", report.RuntimeRuby},
		{"php-fpm", report.RuntimePHP}, {"python3.12", report.RuntimePython}, {"sentry-cli", report.RuntimeOther},
	}
	for i, s := range seed {
		d.MarkSeen(&report.Report{ID: fmt.Sprintf("incident:%d", i), Process: s.process, PID: 100 + i, Runtime: s.rt,
			Python: s.rt == report.RuntimePython, ForkChild: true, Cause: report.CauseForkSafety,
			Time: now.Add(-time.Duration(i) * time.Minute).Format(time.RFC3339), Path: fmt.Sprintf("/r/%d.ips", i)}, now)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	out, errs, code := runHistoryArgs(t, "--db", db, "--by", "runtime")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 5 || !strings.HasPrefix(lines[0], "RUNTIME") || !strings.HasPrefix(lines[1], "ruby ") || !strings.Contains(lines[1], " 3 ") {
		t.Errorf("--by runtime (exit %d, %s):\n%s", code, errs, out)
	}
	out, _, code = runHistoryArgs(t, "--db", db, "--by", "runtime", "--json")
	if code != 0 || !strings.Contains(out, `"runtime":"ruby","count":3,`) {
		t.Errorf("--by runtime --json:\n%s", out)
	}
	out, _, code = runHistoryArgs(t, "--db", db, "--runtime", "ruby")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 || !strings.Contains(lines[0], "RUNTIME") {
		t.Errorf("--runtime ruby:\n%s", out)
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, " ruby ") {
			t.Errorf("--runtime ruby lists %q", l)
		}
	}
	out, _, _ = runHistoryArgs(t, "--db", db, "--runtime", "php", "--by", "program")
	if !strings.Contains(out, "php-fpm") || strings.Contains(out, "ruby") {
		t.Errorf("--runtime php --by program:\n%s", out)
	}
	_, errs, code = runHistoryArgs(t, "--db", db, "--runtime", "cobol")
	if code != 2 || !strings.Contains(errs, "python, ruby, php, perl, node, other") {
		t.Errorf("--runtime cobol: exit %d, %q", code, errs)
	}
}
