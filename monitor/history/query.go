package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"io/fs"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
	"os"
	"time"
)

// Reader answers questions about the history. It opens the file read-only
// and takes no lock, so `forkwatch history` runs beside a recording
// watcher (WAL: readers see the last commit and never block the writer).
type Reader struct {
	db  *sql.DB
	loc *time.Location
	// runtime, when set, limits ByDay, GroupBy and Crashes to the crashes
	// of one runtime (OnlyRuntime).
	runtime string
}

// OnlyRuntime limits what ByDay, GroupBy and Crashes answer to the crashes
// of one runtime (report.Runtimes: python, ruby, php, perl, node, other);
// "" lifts the limit. The menu's counts (Counts, RuntimeCounts) are not
// limited.
func (r *Reader) OnlyRuntime(rt string) error {
	if rt != "" && !report.IsRuntime(rt) {
		return fmt.Errorf("history: unknown runtime %q (want one of %v)", rt, report.Runtimes)
	}
	r.runtime = rt
	return nil
}

// OpenReader opens the database at path for queries. It returns an error
// wrapping ErrNoHistory when there is no file, and one wrapping ErrNewer
// when the schema is newer than this Forkwatch knows.
func OpenReader(path string, loc *time.Location) (*Reader, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNoHistory, path)
	}
	r, err := openReader(path, loc)
	if err != nil {
		return nil, err
	}
	v, err := schemaVersion(context.Background(), r.db)
	if err == nil && v > SchemaVersion {
		err = fmt.Errorf("%w: schema version %d, this one knows %d", ErrNewer, v, SchemaVersion)
	}
	if err == nil && v < SchemaVersion {
		// Read-only: an older file is not migrated here. The watcher does it.
		err = fmt.Errorf("history: %s has schema version %d; start `forkwatch watch` or the app once to upgrade it to %d", path, v, SchemaVersion)
	}
	if err != nil {
		r.Close()
		if notHistory(err) {
			// SQLite's own words ("file is not a database (26)") say
			// nothing of what the file should have been.
			return nil, fmt.Errorf("%w: %s is not a Forkwatch history database (not SQLite, damaged, or another program's)", ErrNotHistory, path)
		}
		return nil, fmt.Errorf("history: %s: %w", path, err)
	}
	return r, nil
}

// notHistory says whether err means the file is not a history database
// at all (not a busy or locked one, which is).
func notHistory(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_FORMAT:
			return true
		}
	}
	return errors.Is(err, errBadSchema)
}

func openReader(path string, loc *time.Location) (*Reader, error) {
	if loc == nil {
		loc = time.Local
	}
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("history: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(2)
	return &Reader{db: db, loc: loc}, nil
}

// Close closes the reader's connections.
func (r *Reader) Close() error { return r.db.Close() }

// Day is the number of crashes on one local day, by cause.
type Day struct {
	Day        string `json:"day"` // YYYY-MM-DD
	Total      int    `json:"total"`
	ForkSafety int    `json:"fork_safety"` // killed by the Objective-C fork-safety check
	ForkChild  int    `json:"fork_child"`  // other death after fork, before exec
	Other      int    `json:"other"`       // any other crash
}

func (d *Day) add(cause string, n int) {
	d.Total += n
	switch cause {
	case report.CauseForkSafety:
		d.ForkSafety += n
	case report.CauseForkChild:
		d.ForkChild += n
	default:
		d.Other += n
	}
}

// dayOf is the local date of t, as stored in crashes.day.
func (r *Reader) dayOf(t time.Time) string { return t.In(r.loc).Format(time.DateOnly) }

// ByDay counts crashes per day from the day of since on, oldest first;
// days without crashes are left out. It reads only the (day, cause) index.
func (r *Reader) ByDay(ctx context.Context, since time.Time) ([]Day, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT day, cause, count(*) FROM crashes WHERE day >= ? AND (? = '' OR runtime = ?) GROUP BY day, cause ORDER BY day`, r.dayOf(since), r.runtime, r.runtime)
	if err != nil {
		return nil, fmt.Errorf("history: by day: %w", err)
	}
	defer rows.Close()
	var out []Day
	for rows.Next() {
		var day, cause string
		var n int
		if err := rows.Scan(&day, &cause, &n); err != nil {
			return nil, fmt.Errorf("history: by day: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Day != day {
			out = append(out, Day{Day: day})
		}
		out[len(out)-1].add(cause, n)
	}
	return out, rows.Err()
}

// Group is the number of crashes sharing one value of a column.
type Group struct {
	Key   string    `json:"key"`
	Count int       `json:"count"`
	Last  time.Time `json:"last"`
}

// groupColumns maps `--by` names to columns; only these reach the SQL.
var groupColumns = map[string]string{
	"cause":   "cause",
	"program": "process",
	"project": "project",
	"runtime": "runtime",
}

// GroupBy counts crashes since since by cause, program, project or
// runtime, the most frequent first; limit <= 0 means all.
func (r *Reader) GroupBy(ctx context.Context, by string, since time.Time, limit int) ([]Group, error) {
	col, ok := groupColumns[by]
	if !ok {
		return nil, fmt.Errorf("history: cannot group by %q (cause, program, project or runtime)", by)
	}
	if limit <= 0 {
		limit = -1
	}
	rows, err := r.db.QueryContext(ctx, `SELECT `+col+`, count(*) AS n, max(time) FROM crashes WHERE time >= ? AND (? = '' OR runtime = ?) GROUP BY `+col+` ORDER BY n DESC, `+col+` LIMIT ?`, since.Unix(), r.runtime, r.runtime, limit)
	if err != nil {
		return nil, fmt.Errorf("history: by %s: %w", by, err)
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		var g Group
		var last int64
		if err := rows.Scan(&g.Key, &g.Count, &last); err != nil {
			return nil, fmt.Errorf("history: by %s: %w", by, err)
		}
		g.Last = time.Unix(last, 0).In(r.loc)
		out = append(out, g)
	}
	return out, rows.Err()
}

// Crash is one recorded crash.
type Crash struct {
	report.Report
	Seen time.Time // when Forkwatch first saw it
	At   time.Time // when it happened (the report's time, else Seen)
}

// Crashes returns the crashes that happened since since, newest first;
// limit <= 0 means all. It holds them all in memory: for listings use
// EachCrash or EachCrashRow, which stream.
func (r *Reader) Crashes(ctx context.Context, since time.Time, limit int) ([]Crash, error) {
	var out []Crash
	err := r.EachCrash(ctx, since, limit, func(c Crash) error {
		out = append(out, c)
		return nil
	})
	return out, err
}

// EachCrash calls fn for each crash that happened since since, newest
// first, at most limit (<= 0: all), one row in memory at a time: the
// listing of 100,000 crashes runs in constant memory. An error from fn
// stops the walk and is returned.
func (r *Reader) EachCrash(ctx context.Context, since time.Time, limit int, fn func(Crash) error) error {
	if limit <= 0 {
		limit = -1
	}
	rows, err := r.db.QueryContext(ctx, `SELECT report, seen_at, time, runtime FROM crashes WHERE time >= ? AND (? = '' OR runtime = ?) ORDER BY time DESC, rowid DESC LIMIT ?`, since.Unix(), r.runtime, r.runtime, limit)
	if err != nil {
		return fmt.Errorf("history: crashes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var js []byte
		var rt string
		var seen, at int64
		if err := rows.Scan(&js, &seen, &at, &rt); err != nil {
			return fmt.Errorf("history: crashes: %w", err)
		}
		var c Crash
		if err := json.Unmarshal(js, &c.Report); err != nil {
			return fmt.Errorf("history: crashes: stored report: %w", err)
		}
		if c.Report.Runtime == "" {
			c.Report.Runtime = rt // recorded before the field: the migration's reading
		}
		c.Seen, c.At = time.Unix(seen, 0).In(r.loc), time.Unix(at, 0).In(r.loc)
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EachCrashJSON is EachCrash for `history --json`: fn gets each crash's
// stored report as it was recorded (the whole `inspect --json` object,
// not decoded) and when Forkwatch first saw it. Nothing is decoded or
// re-encoded, so a listing of 100,000 crashes costs little more than
// reading them.
func (r *Reader) EachCrashJSON(ctx context.Context, since time.Time, limit int, fn func(report []byte, seen time.Time) error) error {
	if limit <= 0 {
		limit = -1
	}
	rows, err := r.db.QueryContext(ctx, `SELECT report, seen_at FROM crashes WHERE time >= ? AND (? = '' OR runtime = ?) ORDER BY time DESC, rowid DESC LIMIT ?`, since.Unix(), r.runtime, r.runtime, limit)
	if err != nil {
		return fmt.Errorf("history: crashes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var js []byte
		var seen int64
		if err := rows.Scan(&js, &seen); err != nil {
			return fmt.Errorf("history: crashes: %w", err)
		}
		if err := fn(js, time.Unix(seen, 0).In(r.loc)); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CrashRow is the part of a crash the terminal listing shows, read from
// the table's columns without decoding the stored report.
type CrashRow struct {
	At         time.Time
	Process    string
	PID        int
	Cause      string
	Runtime    string
	Project    string
	ReportPath string
}

// EachCrashRow is EachCrash for the listing's columns only: no stored
// report is read or decoded.
func (r *Reader) EachCrashRow(ctx context.Context, since time.Time, limit int, fn func(CrashRow) error) error {
	if limit <= 0 {
		limit = -1
	}
	rows, err := r.db.QueryContext(ctx, `SELECT time, process, pid, cause, runtime, project, report_path FROM crashes WHERE time >= ? AND (? = '' OR runtime = ?) ORDER BY time DESC, rowid DESC LIMIT ?`, since.Unix(), r.runtime, r.runtime, limit)
	if err != nil {
		return fmt.Errorf("history: crashes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c CrashRow
		var at int64
		if err := rows.Scan(&at, &c.Process, &c.PID, &c.Cause, &c.Runtime, &c.Project, &c.ReportPath); err != nil {
			return fmt.Errorf("history: crashes: %w", err)
		}
		c.At = time.Unix(at, 0).In(r.loc)
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CountCrashes counts the crashes that happened since since.
func (r *Reader) CountCrashes(ctx context.Context, since time.Time) (int, error) {
	var n int
	if err := r.db.QueryRowContext(ctx, `SELECT count(*) FROM crashes WHERE time >= ? AND (? = '' OR runtime = ?)`, since.Unix(), r.runtime, r.runtime).Scan(&n); err != nil {
		return 0, fmt.Errorf("history: count crashes: %w", err)
	}
	return n, nil
}

// notableSQL is report.Notable in SQL: a death after fork() of any
// runtime, or a Python crash; never a probe result.
const notableSQL = `(python = 1 OR fork_child = 1 OR objc_fork_safety = 1 OR cause IN ('fork-safety', 'fork-child', 'corefoundation-fork')) AND probe = 0`

// Counts gives the notable crashes (report.Notable: deaths after fork() of
// any runtime, other Python crashes) of today and of the last 7 days (today
// and the six before), local time, for the menu's status line. Probe
// results are test runs, not counted.
func (r *Reader) Counts(ctx context.Context, now time.Time) (today, week int, err error) {
	now = now.In(r.loc)
	from := time.Date(now.Year(), now.Month(), now.Day()-6, 12, 0, 0, 0, r.loc)
	err = r.db.QueryRowContext(ctx, `SELECT coalesce(sum(day = ?), 0), count(*) FROM crashes WHERE `+notableSQL+` AND day >= ? AND day <= ?`,
		r.dayOf(now), r.dayOf(from), r.dayOf(now)).Scan(&today, &week)
	if err != nil {
		return 0, 0, fmt.Errorf("history: counts: %w", err)
	}
	return today, week, nil
}

// RuntimeCounts counts today's notable crashes (as Counts) by runtime, for
// the menu's "3 crashes after fork() today (2 Ruby, 1 Python)".
func (r *Reader) RuntimeCounts(ctx context.Context, now time.Time) (map[string]int, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT runtime, count(*) FROM crashes WHERE `+notableSQL+` AND day = ? GROUP BY runtime`, r.dayOf(now))
	if err != nil {
		return nil, fmt.Errorf("history: runtime counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var rt string
		var n int
		if err := rows.Scan(&rt, &n); err != nil {
			return nil, fmt.Errorf("history: runtime counts: %w", err)
		}
		out[rt] = n
	}
	return out, rows.Err()
}

// Toggle is one recorded toggle change.
type Toggle struct {
	Time   time.Time `json:"time"`
	Name   string    `json:"name"`
	On     bool      `json:"on"`
	Detail string    `json:"detail,omitempty"`
}

// Toggles returns the toggle changes since since, oldest first.
func (r *Reader) Toggles(ctx context.Context, since time.Time) ([]Toggle, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT time, name, on_, detail FROM toggles WHERE time >= ? ORDER BY time, id`, since.Unix())
	if err != nil {
		return nil, fmt.Errorf("history: toggles: %w", err)
	}
	defer rows.Close()
	var out []Toggle
	for rows.Next() {
		var t Toggle
		var at int64
		if err := rows.Scan(&at, &t.Name, &t.On, &t.Detail); err != nil {
			return nil, fmt.Errorf("history: toggles: %w", err)
		}
		t.Time = time.Unix(at, 0).In(r.loc)
		out = append(out, t)
	}
	return out, rows.Err()
}

// GroupCounts counts the crashes of each crash loop (crashes sharing a live
// parent) that happened since since: the menu's "37×" outlasts its short
// list of recent crashes and a restart.
func (r *Reader) GroupCounts(ctx context.Context, since time.Time) (map[string]int, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT crash_group, count(*) FROM crashes WHERE crash_group != '' AND probe = 0 AND time >= ? GROUP BY crash_group`, since.Unix())
	if err != nil {
		return nil, fmt.Errorf("history: group counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var g string
		var n int
		if err := rows.Scan(&g, &n); err != nil {
			return nil, fmt.Errorf("history: group counts: %w", err)
		}
		out[g] = n
	}
	return out, rows.Err()
}

// Probes returns the recorded probe results since since, oldest first.
func (r *Reader) Probes(ctx context.Context, since time.Time) ([]Probe, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT time, name, ok, detail, crash_id FROM probes WHERE time >= ? ORDER BY time, id`, since.Unix())
	if err != nil {
		return nil, fmt.Errorf("history: probes: %w", err)
	}
	defer rows.Close()
	var out []Probe
	for rows.Next() {
		var p Probe
		var at int64
		if err := rows.Scan(&at, &p.Name, &p.OK, &p.Detail, &p.CrashID); err != nil {
			return nil, fmt.Errorf("history: probes: %w", err)
		}
		p.Time = time.Unix(at, 0).In(r.loc)
		out = append(out, p)
	}
	return out, rows.Err()
}

// Core is one recorded core file.
type Core struct {
	Path    string
	PID     int
	Process string
	Size    int64
	Found   time.Time
	Removed time.Time // zero while on disk
}

// Cores returns the core files on disk at since or found after it, oldest
// first.
func (r *Reader) Cores(ctx context.Context, since time.Time) ([]Core, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT path, pid, process, size, found_at, removed_at FROM core_files WHERE found_at >= ? OR removed_at IS NULL OR removed_at >= ? ORDER BY found_at, id`, since.Unix(), since.Unix())
	if err != nil {
		return nil, fmt.Errorf("history: cores: %w", err)
	}
	defer rows.Close()
	var out []Core
	for rows.Next() {
		var c Core
		var found int64
		var removed sql.NullInt64
		if err := rows.Scan(&c.Path, &c.PID, &c.Process, &c.Size, &found, &removed); err != nil {
			return nil, fmt.Errorf("history: cores: %w", err)
		}
		c.Found = time.Unix(found, 0).In(r.loc)
		if removed.Valid {
			c.Removed = time.Unix(removed.Int64, 0).In(r.loc)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
