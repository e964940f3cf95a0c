package history

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// withRuntime is mkReport for another program: its process name and runtime.
func withRuntime(i int, cause, process, rt string, at time.Time) *report.Report {
	r := mkReport(i, cause, at)
	r.Process, r.Runtime, r.Python = process, rt, rt == report.RuntimePython
	return r
}

// TestRuntimeMigration: crashes recorded under schema version 2 (no runtime
// column) get one from the row (the Python flag, the process name) when the
// watcher opens the file, and new crashes record theirs.
func TestRuntimeMigration(t *testing.T) {
	now := t0
	path := filepath.Join(t.TempDir(), "history.db")
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, _ := db.Conn(ctx)
	if err := migrate(ctx, conn, now, 2); err != nil {
		t.Fatal(err)
	}
	old := map[string]struct {
		process string
		python  int
		want    string
	}{
		"incident:py":    {"Python", 1, report.RuntimePython},
		"incident:ruby":  {"ruby", 0, report.RuntimeRuby},
		"incident:ruby3": {"ruby3.3", 0, report.RuntimeRuby},
		"incident:fpm":   {"php-fpm", 0, report.RuntimePHP},
		"incident:herd":  {"php83-fpm", 0, report.RuntimePHP},
		"incident:perl":  {"perl5.30", 0, report.RuntimePerl},
		"incident:node":  {"node", 0, report.RuntimeNode},
		"incident:app":   {"sentry-cli", 0, report.RuntimeOther},
		"incident:rubyx": {"rubocop", 0, report.RuntimeOther},
	}
	for id, o := range old {
		if _, err := conn.ExecContext(ctx, `INSERT INTO crashes(id, seen_at, time, day, cause, process, python, fork_child, report) VALUES(?, ?, ?, '2026-11-20', 'fork-safety', ?, ?, 1, '{}')`,
			id, now.Unix(), now.Unix(), o.process, o.python); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()
	db.Close()

	d := openTest(t, path, &now)
	d.MarkSeen(withRuntime(1, report.CauseForkSafety, "ruby", report.RuntimeRuby, now), now)
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	for id, o := range old {
		var rt string
		d.conn.QueryRowContext(ctx, `SELECT runtime FROM crashes WHERE id = ?`, id).Scan(&rt)
		if rt != o.want {
			t.Errorf("%s (%s): runtime %q after migration, want %q", id, o.process, rt, o.want)
		}
	}
	r, err := OpenReader(path, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.OnlyRuntime(report.RuntimeRuby); err != nil {
		t.Fatal(err)
	}
	cs, err := r.Crashes(ctx, time.Time{}, 0)
	if err != nil || len(cs) != 3 {
		t.Fatalf("ruby crashes: %d, %v; want 3", len(cs), err)
	}
	for _, c := range cs {
		if c.Runtime != report.RuntimeRuby {
			t.Errorf("filtered listing holds %q (%q)", c.ID, c.Runtime)
		}
	}
}

// TestRuntimeQueries: --by runtime, the --runtime filter across the
// listing, the groups and the days, and the menu's notable counts by
// runtime (a plain crash of another program is not counted; a Python one
// is).
func TestRuntimeQueries(t *testing.T) {
	now := t0
	path := filepath.Join(t.TempDir(), "history.db")
	d := openTest(t, path, &now)
	rows := []*report.Report{
		withRuntime(1, report.CauseForkSafety, "ruby", report.RuntimeRuby, now),
		withRuntime(2, report.CauseForkChild, "ruby", report.RuntimeRuby, now.Add(-time.Minute)),
		withRuntime(3, report.CauseForkSafety, "php-fpm", report.RuntimePHP, now.Add(-2*time.Minute)),
		withRuntime(4, report.CauseForkSafety, "python3.12", report.RuntimePython, now.Add(-3*time.Minute)),
		withRuntime(5, report.CauseCrash, "python3.12", report.RuntimePython, now.Add(-4*time.Minute)),
		withRuntime(6, report.CauseCrash, "YetAnotherMac", report.RuntimeOther, now.Add(-5*time.Minute)),
		withRuntime(7, report.CauseCrash, "perl", report.RuntimePerl, now.Add(-6*time.Minute)),
	}
	for _, r := range rows {
		d.MarkSeen(r, now)
	}
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := OpenReader(path, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	groups, err := r.GroupBy(ctx, "runtime", time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, g := range groups {
		got[g.Key] = g.Count
	}
	want := map[string]int{"ruby": 2, "python": 2, "php": 1, "perl": 1, "other": 1}
	if len(got) != len(want) {
		t.Errorf("by runtime %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("by runtime %v, want %v", got, want)
			break
		}
	}
	if groups[0].Key != "python" && groups[0].Key != "ruby" {
		t.Errorf("most frequent first: %v", groups)
	}
	counts, err := r.RuntimeCounts(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if counts["ruby"] != 2 || counts["php"] != 1 || counts["python"] != 2 || counts["other"] != 0 || counts["perl"] != 0 {
		t.Errorf("RuntimeCounts %v: want ruby 2, php 1, python 2, no plain crash of another program", counts)
	}
	if today, _, err := r.Counts(ctx, now); err != nil || today != 5 {
		t.Errorf("Counts today = %d, %v; want 5", today, err)
	}
	if err := r.OnlyRuntime("cobol"); err == nil {
		t.Error("an unknown runtime is accepted")
	}
	if err := r.OnlyRuntime(report.RuntimePHP); err != nil {
		t.Fatal(err)
	}
	if cs, _ := r.Crashes(ctx, time.Time{}, 0); len(cs) != 1 || cs[0].Process != "php-fpm" {
		t.Errorf("php crashes: %+v", cs)
	}
	if days, _ := r.ByDay(ctx, time.Time{}); len(days) != 1 || days[0].Total != 1 {
		t.Errorf("php days: %+v", days)
	}
	if gs, _ := r.GroupBy(ctx, "program", time.Time{}, 0); len(gs) != 1 || gs[0].Key != "php-fpm" {
		t.Errorf("php programs: %+v", gs)
	}
}
