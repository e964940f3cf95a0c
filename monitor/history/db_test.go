package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func testOpts(now *time.Time) Options {
	return Options{PruneEvery: -1, Location: time.UTC, Now: func() time.Time { return *now }}
}

func openTest(t *testing.T, path string, now *time.Time) *DB {
	t.Helper()
	d, err := Open(path, testOpts(now))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func mkReport(i int, cause string, at time.Time) *report.Report {
	return &report.Report{
		ID: fmt.Sprintf("incident:%06d", i), Path: fmt.Sprintf("/reports/python3.12-%06d.ips", i),
		Format: "ips", Process: "python3.12", PID: 1000 + i, Time: at.Format(time.RFC3339),
		Cause: cause, Python: true, ForkChild: cause != report.CauseCrash, ObjCForkSafety: cause == report.CauseForkSafety,
		Advice: "use spawn", Project: "/Users/a/proj", Framework: "gunicorn", Group: "g1",
		Evidence: []string{"crashed on child side of fork pre-exec"},
	}
}

// The Store contract as the watcher uses it, across a reopen.
func TestStoreContract(t *testing.T) {
	now := t0
	path := filepath.Join(t.TempDir(), "history.db")
	d := openTest(t, path, &now)
	if !d.FirstRun() {
		t.Error("a new database is a first run")
	}
	r := mkReport(1, report.CauseForkSafety, t0.Add(-time.Minute))
	if d.Seen(r.ID) {
		t.Fatal("seen before MarkSeen")
	}
	d.MarkSeen(r, now)
	if !d.Seen(r.ID) {
		t.Fatal("not seen after MarkSeen (pending writes must be visible)")
	}
	if id, ok := d.PathID(r.Path); !ok || id != r.ID {
		t.Fatalf("PathID = %q %v", id, ok)
	}
	d.MarkPath("/reports/Retired/x.ips", r.ID)
	d.MarkCore("/cores/core.42", 1<<30)
	if n, ok := d.CoreAnnounced("/cores/core.42"); !ok || n != 1<<30 {
		t.Fatalf("CoreAnnounced = %d %v", n, ok)
	}
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	d.ForgetPath("/reports/Retired/x.ips")
	d.ForgetPath("/cores/core.42")
	if _, ok := d.CoreAnnounced("/cores/core.42"); ok {
		t.Error("core still announced after ForgetPath")
	}
	for i := 2; i <= 60; i++ {
		d.MarkSeen(mkReport(i, report.CauseCrash, t0), now.Add(time.Duration(i)*time.Second))
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d = openTest(t, path, &now)
	if d.FirstRun() {
		t.Error("a reopened database with crashes is not a first run")
	}
	if !d.Seen(r.ID) || d.Seen("incident:nope") {
		t.Error("Seen wrong after reopen")
	}
	paths := d.KnownPaths()
	if len(paths) != 60 || !paths[r.Path] || paths["/reports/Retired/x.ips"] {
		t.Errorf("KnownPaths: %d entries, %v", len(paths), paths[r.Path])
	}
	rec := d.Recent()
	if len(rec) != recentLimit || rec[len(rec)-1].ID != "incident:000060" || rec[0].ID != "incident:000011" {
		t.Fatalf("Recent: %d, first %q last %q", len(rec), rec[0].ID, rec[len(rec)-1].ID)
	}
	if got := rec[0]; got.Project != "/Users/a/proj" || got.Framework != "gunicorn" || len(got.Evidence) != 1 {
		t.Errorf("Recent lost fields: %+v", got)
	}
	cores, err := d.Cores(context.Background(), time.Time{})
	if err != nil || len(cores) != 1 || cores[0].Removed.IsZero() || cores[0].Size != 1<<30 {
		t.Errorf("Cores = %+v, %v", cores, err)
	}
}

// A second writer is refused; readers are not.
func TestLocked(t *testing.T) {
	now := t0
	path := filepath.Join(t.TempDir(), "history.db")
	d := openTest(t, path, &now)
	if _, err := Open(path, testOpts(&now)); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	d.MarkSeen(mkReport(1, report.CauseCrash, t0), now)
	d.Save()
	r, err := OpenReader(path, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if days, err := r.ByDay(context.Background(), time.Time{}); err != nil || len(days) != 1 {
		t.Fatalf("ByDay via reader = %v, %v", days, err)
	}
}

// Garbage, someone else's SQLite file and a truncated database are set
// aside with their WAL files; a fresh database works.
func TestCorruptSetAside(t *testing.T) {
	now := t0
	for name, make := range map[string]func(t *testing.T, path string){
		"garbage": func(t *testing.T, path string) {
			os.WriteFile(path, []byte(strings.Repeat("not a database\n", 500)), 0o600)
			os.WriteFile(path+"-wal", []byte("stale"), 0o600)
		},
		"foreign": func(t *testing.T, path string) {
			db, _ := sql.Open("sqlite", path)
			if _, err := db.Exec(`CREATE TABLE t(x)`); err != nil {
				t.Fatal(err)
			}
			db.Close()
		},
		"truncated": func(t *testing.T, path string) {
			d := openTest(t, path, &now)
			for i := 0; i < 500; i++ {
				d.MarkSeen(mkReport(i, report.CauseCrash, t0), now)
			}
			d.Save()
			d.Close()
			data, _ := os.ReadFile(path)
			os.Remove(path + "-wal")
			os.Remove(path + "-shm")
			// Keep the header, wreck the b-tree pages.
			for i := 4096; i < len(data); i++ {
				data[i] = 0xA5
			}
			os.WriteFile(path, data, 0o600)
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "history.db")
			make(t, path)
			d, err := Open(path, testOpts(&now))
			if name == "truncated" && err == nil {
				// A wrecked b-tree may only show on reading: the open
				// itself read the schema only.
				t.Skip("corruption not visible at open")
			}
			if !errors.Is(err, ErrSetAside) || d == nil {
				t.Fatalf("Open = %v, %v; want a fresh DB and ErrSetAside", d, err)
			}
			defer d.Close()
			if !strings.Contains(err.Error(), "corrupt-") {
				t.Errorf("error does not say where: %v", err)
			}
			if d.FirstRun() {
				t.Error("a set-aside database must not count as a first run")
			}
			aside, _ := filepath.Glob(filepath.Join(dir, "history.db.corrupt-*"))
			if len(aside) == 0 {
				t.Fatalf("nothing set aside in %s", dir)
			}
			r := mkReport(1, report.CauseCrash, t0)
			d.MarkSeen(r, now)
			if err := d.Save(); err != nil || !d.Seen(r.ID) {
				t.Fatalf("fresh database: %v", err)
			}
		})
	}
}

// A database at schema version 1 with data is migrated, data kept.
func TestMigrateFromVersion1(t *testing.T) {
	now := t0
	path := filepath.Join(t.TempDir(), "history.db")
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	conn, _ := db.Conn(context.Background())
	if err := migrate(context.Background(), conn, now, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `INSERT INTO seen(id, seen_at) VALUES('incident:old', 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `INSERT INTO toggles(time, name, on_) VALUES(1, 'x', 1)`); err == nil {
		t.Fatal("version 1 should have no toggles table")
	}
	conn.Close()
	db.Close()
	if _, err := OpenReader(path, time.UTC); err == nil || !strings.Contains(err.Error(), "schema version 1") {
		t.Errorf("reader on an old schema: %v", err)
	}

	d := openTest(t, path, &now)
	if !d.Seen("incident:old") || d.FirstRun() {
		t.Error("data lost in migration")
	}
	if err := d.RecordToggle("fork-safety-off", true, "launchctl setenv", now); err != nil {
		t.Fatalf("after migration: %v", err)
	}
	var v int
	d.conn.QueryRowContext(context.Background(), `SELECT max(version) FROM schema_version`).Scan(&v)
	if v != SchemaVersion {
		t.Errorf("version %d, want %d", v, SchemaVersion)
	}
}

// A newer schema is refused and left in place.
func TestNewerSchema(t *testing.T) {
	now := t0
	path := filepath.Join(t.TempDir(), "history.db")
	d := openTest(t, path, &now)
	d.conn.ExecContext(context.Background(), `INSERT INTO schema_version VALUES(99, 0)`)
	d.Close()
	if _, err := Open(path, testOpts(&now)); !errors.Is(err, ErrNewer) {
		t.Fatalf("Open = %v, want ErrNewer", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal("a newer database must stay where it is")
	}
}

// The JSON state of the current format, written by monitor.State, is
// imported once.
func TestImportState(t *testing.T) {
	now := t0
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.json")
	st, err := monitor.LoadState(statePath)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 60; i++ {
		st.MarkSeen(mkReport(i, report.CauseForkSafety, t0.Add(time.Duration(i)*time.Hour)), t0.Add(time.Duration(i)*time.Hour))
	}
	st.MarkPath("/reports/Retired/old.ips", "incident:000003")
	st.MarkCore("/cores/core.7", 12345)
	if err := st.Save(); err != nil {
		t.Fatal(err)
	}

	d := openTest(t, filepath.Join(dir, "history.db"), &now)
	im, err := d.ImportState(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if im.Seen != 60 || im.Paths != 61 || im.Cores != 1 || im.Recent != 50 || im.Already {
		t.Errorf("imported %+v", im)
	}
	if d.FirstRun() {
		t.Error("after an import it is not a first run")
	}
	checkKnown(t, d)
	for i := 0; i < 60; i++ {
		if !d.Seen(fmt.Sprintf("incident:%06d", i)) {
			t.Fatalf("crash %d not seen", i)
		}
	}
	if id, ok := d.PathID("/reports/Retired/old.ips"); !ok || id != "incident:000003" {
		t.Errorf("path: %q %v", id, ok)
	}
	if n, ok := d.CoreAnnounced("/cores/core.7"); !ok || n != 12345 {
		t.Errorf("core: %d %v", n, ok)
	}
	rec := d.Recent()
	if len(rec) != 50 || rec[49].ID != "incident:000059" {
		t.Fatalf("recent after import: %d", len(rec))
	}
	again, err := d.ImportState(statePath)
	if err != nil || !again.Already {
		t.Errorf("second import: %+v %v", again, err)
	}
	// The crash time is the report's; the day follows it.
	days, _ := d.ByDay(context.Background(), time.Time{})
	total := 0
	for _, x := range days {
		total += x.ForkSafety
	}
	if total != 50 || days[0].Day != "2026-11-20" {
		t.Errorf("days after import: %+v", days)
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"version":1,"seen":`), 0o600)
	if _, err := d.ImportState(bad); err == nil {
		t.Error("truncated state imported without error")
	}
	if im, err := d.ImportState(filepath.Join(dir, "missing.json")); err != nil || im.Seen != 0 {
		t.Errorf("missing state: %+v %v", im, err)
	}
}

// Retention: a year or MaxCrashes, whichever is less.
func TestPrune(t *testing.T) {
	now := t0
	opts := testOpts(&now)
	opts.MaxCrashes = 1000
	d, err := Open(filepath.Join(t.TempDir(), "history.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// 400 crashes older than a year, 1,500 in the last 30 days.
	for i := 0; i < 400; i++ {
		at := now.Add(-400*24*time.Hour + time.Duration(i)*time.Minute)
		r := mkReport(i, report.CauseCrash, at)
		r.Path = ""
		d.MarkSeen(r, at)
	}
	for i := 400; i < 1900; i++ {
		at := now.Add(-30*24*time.Hour + time.Duration(i)*time.Minute)
		d.MarkSeen(mkReport(i, report.CauseForkSafety, at), at)
	}
	d.RecordToggle("ulimit-core", true, "", now.Add(-500*24*time.Hour))
	d.RecordToggle("ulimit-core", false, "", now.Add(-time.Hour))
	d.Save()
	n, err := d.Prune(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 900 {
		t.Errorf("pruned %d, want 900", n)
	}
	checkKnown(t, d)
	var crashes, seen int
	d.conn.QueryRowContext(context.Background(), `SELECT count(*) FROM crashes`).Scan(&crashes)
	d.conn.QueryRowContext(context.Background(), `SELECT count(*) FROM seen`).Scan(&seen)
	if crashes != 1000 {
		t.Errorf("%d crashes left, want 1000", crashes)
	}
	// Old ids with no file go; ids whose report file is still known stay,
	// so a report moved to Retired/ is not announced again.
	if d.Seen("incident:000000") {
		t.Error("a year-old id without a file was kept")
	}
	if !d.Seen("incident:000401") {
		t.Error("an id whose report file is known was dropped")
	}
	tg, _ := d.Toggles(context.Background(), time.Time{})
	if len(tg) != 1 {
		t.Errorf("toggles left: %+v", tg)
	}
}

func TestCounts(t *testing.T) {
	now := t0
	d := openTest(t, filepath.Join(t.TempDir(), "history.db"), &now)
	for i, ago := range []time.Duration{0, time.Hour, 30 * time.Hour, 6 * 24 * time.Hour, 7 * 24 * time.Hour, 40 * 24 * time.Hour} {
		d.MarkSeen(mkReport(i, report.CauseCrash, now.Add(-ago)), now)
	}
	// Neither a probe result nor a crash of another program counts.
	probe := mkReport(10, report.CauseForkSafety, now)
	probe.Probe = true
	other := mkReport(11, report.CauseCrash, now)
	other.Python = false
	d.MarkSeen(probe, now)
	d.MarkSeen(other, now)
	d.Save()
	today, week, err := d.Counts(context.Background(), now)
	if err != nil || today != 2 || week != 4 {
		t.Errorf("Counts = %d, %d, %v; want 2, 4", today, week, err)
	}
}

// A full disk (simulated with max_page_count, which fails writes with
// SQLITE_FULL like a full disk) loses nothing already announced: Save
// reports it, the notes are kept, and the next Save after space came back
// writes them.
func TestDiskFullKeepsNotes(t *testing.T) {
	now := t0
	path := filepath.Join(t.TempDir(), "history.db")
	d := openTest(t, path, &now)
	ctx := context.Background()
	var pages int
	d.conn.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages)
	if _, err := d.conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ {
		d.MarkSeen(mkReport(i, report.CauseForkSafety, t0), now)
	}
	err := d.Save()
	if err == nil || !strings.Contains(err.Error(), "full") {
		t.Fatalf("Save on a full disk = %v, want a disk-full error", err)
	}
	if !d.Seen("incident:000299") {
		t.Fatal("a crash already announced was forgotten after a failed save")
	}
	checkKnown(t, d) // the rolled back ids are not in it: still pending
	if _, ok := d.known["incident:000299"]; ok {
		t.Error("an id of a rolled back write is taken as in the table")
	}
	if _, err := d.conn.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if err := d.Save(); err != nil {
		t.Fatalf("Save after space came back: %v", err)
	}
	checkKnown(t, d)
	d.Close()
	d = openTest(t, path, &now)
	checkKnown(t, d)
	for _, id := range []string{"incident:000000", "incident:000299"} {
		if !d.Seen(id) {
			t.Errorf("%s lost", id)
		}
	}
}

// A healthy database that another program (a user's sqlite3) holds in a
// write transaction is not set aside: in WAL mode it still opens and
// reads; Save waits the busy timeout, fails, keeps its notes, and writes
// them once the other program is done.
func TestLockedByOtherProgram(t *testing.T) {
	now := t0
	path := filepath.Join(t.TempDir(), "history.db")
	d := openTest(t, path, &now)
	d.MarkSeen(mkReport(1, report.CauseCrash, t0), now)
	d.Close()
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	if _, err := other.Exec(`BEGIN EXCLUSIVE`); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(path, testOpts(&now))
	if err != nil {
		t.Fatalf("Open beside another program's write transaction: %v", err)
	}
	defer d2.Close()
	if !d2.Seen("incident:000001") {
		t.Error("cannot read beside the other program")
	}
	d2.MarkSeen(mkReport(2, report.CauseCrash, t0), now)
	start := time.Now()
	if err := d2.Save(); err == nil || !strings.Contains(err.Error(), "locked") && !strings.Contains(err.Error(), "busy") {
		t.Fatalf("Save while locked = %v", err)
	}
	if waited := time.Since(start); waited < busyTimeout-100*time.Millisecond {
		t.Errorf("gave up after %v, before the busy timeout", waited)
	}
	if _, err := other.Exec(`ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if err := d2.Save(); err != nil {
		t.Fatalf("Save after the lock went: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 0 {
		t.Errorf("a healthy database was set aside: %v", aside)
	}
}

// Pruning runs by itself in the background, and Close stops it.
func TestPruneInBackground(t *testing.T) {
	now := t0
	opts := testOpts(&now)
	opts.PruneEvery = 50 * time.Millisecond
	d, err := Open(filepath.Join(t.TempDir(), "history.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	old := now.AddDate(-2, 0, 0)
	d.MarkSeen(mkReport(1, report.CauseCrash, old), old)
	d.MarkSeen(mkReport(2, report.CauseCrash, now), now)
	d.Save()
	deadline := time.Now().Add(5 * time.Second)
	for {
		days, _ := d.ByDay(context.Background(), time.Time{})
		if len(days) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not pruned in the background: %+v", days)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFilesPrivate: the database and its -wal and -shm files are 0600 under
// a permissive umask, and files an older version left 0644 are corrected.
func TestFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "support", "history.db")
	now := time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)
	d := openTest(t, path, &now)
	d.MarkSeen(&report.Report{ID: "x", Process: "python3", Time: now.Format(time.RFC3339)}, now)
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %s: %v", when, p, err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s has mode %o", when, filepath.Base(p), fi.Mode().Perm())
			}
		}
		if fi, _ := os.Stat(filepath.Dir(path)); fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: folder mode %o", when, fi.Mode().Perm())
		}
	}
	check("new")
	d.Close()
	// As an older version left them: everything 0644 (an empty WAL and
	// shared-memory file are valid; SQLite rebuilds them).
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if _, err := os.Stat(p); err != nil {
			os.WriteFile(p, nil, 0o644)
		}
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Chmod(p, 0o644)
	}
	d2 := openTest(t, path, &now)
	defer d2.Close()
	check("reopened")
}

// checkKnown: the ids Seen answers from memory (DB.known) are exactly those
// in the seen table.
func checkKnown(t *testing.T, d *DB) {
	t.Helper()
	rows, err := d.conn.QueryContext(context.Background(), `SELECT id FROM seen`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	table := map[string]struct{}{}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		table[id] = struct{}{}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(table) != len(d.known) {
		t.Errorf("%d ids in the seen table, %d known in memory", len(table), len(d.known))
	}
	for id := range table {
		if _, ok := d.known[id]; !ok {
			t.Errorf("%s in the table, not in memory", id)
			return
		}
	}
}
