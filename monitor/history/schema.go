package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// errBadSchema means the file is an SQLite database but not one of ours
// with a readable version (someone else's file at our path).
var errBadSchema = errors.New("not a Forkwatch history database")

// migrations[i] brings the schema from version i to i+1. Each runs in its
// own transaction with the row recording it in schema_version, so a crash
// midway leaves the previous version intact. Never edit a released
// migration: add one.
//
// The tables (times are Unix seconds; day is the local date YYYY-MM-DD):
//
//	schema_version(version, applied_at)       one row per migration applied
//	crashes(id, seen_at, time, day, cause, process, pid, parent_process,
//	        parent_pid, responsible_process, exe_path, bundle_id, os_version,
//	        exception, signal, termination, python, fork_child,
//	        objc_fork_safety, objc_class, trigger_frame, advice, partial,
//	        parent_command, parent_cwd, interpreter, python_version, project,
//	        venv, framework, fix, fix_source, module, module_path,
//	        crash_group, fork_via, probe, format, report_path, report,
//	        runtime)
//	                                          one row per crash; report is the
//	                                          whole Report as JSON (the
//	                                          `inspect --json` fields)
//	seen(id, seen_at)                         crash ids already announced
//	prunes(time, crashes, recorded_before)    what each pruning removed
//	paths(path, id)                           report files already read
//	core_files(id, path, pid, process, size, found_at, complete_at, removed_at)
//	                                          one row per core file; size is
//	                                          the last size seen, removed_at
//	                                          NULL while it is on disk
//	imports(source, imported_at, seen, paths, cores, recent)
//	                                          the state.json imported once
//	toggles(id, time, name, on_, detail)      every toggle change
//	probes(id, time, name, ok, detail, crash_id)
//	                                          `forkwatch doctor --probe` results
//	outbox(seq, id, kind, time, created_at, payload, attempts, sent_at)
//	                                          events waiting to be exported
//	                                          over OTLP (outbox.go); id is
//	                                          stable (the incident id of a
//	                                          crash), payload is JSON
var migrations = []string{
	// 1: the watcher's memory and the crash log.
	`CREATE TABLE crashes(
		id TEXT PRIMARY KEY,
		seen_at INTEGER NOT NULL,
		time INTEGER NOT NULL,
		day TEXT NOT NULL,
		cause TEXT NOT NULL DEFAULT '',
		process TEXT NOT NULL DEFAULT '',
		pid INTEGER NOT NULL DEFAULT 0,
		parent_process TEXT NOT NULL DEFAULT '',
		parent_pid INTEGER NOT NULL DEFAULT 0,
		responsible_process TEXT NOT NULL DEFAULT '',
		exe_path TEXT NOT NULL DEFAULT '',
		bundle_id TEXT NOT NULL DEFAULT '',
		os_version TEXT NOT NULL DEFAULT '',
		exception TEXT NOT NULL DEFAULT '',
		signal TEXT NOT NULL DEFAULT '',
		termination TEXT NOT NULL DEFAULT '',
		python INTEGER NOT NULL DEFAULT 0,
		fork_child INTEGER NOT NULL DEFAULT 0,
		objc_fork_safety INTEGER NOT NULL DEFAULT 0,
		objc_class TEXT NOT NULL DEFAULT '',
		trigger_frame TEXT NOT NULL DEFAULT '',
		advice TEXT NOT NULL DEFAULT '',
		partial INTEGER NOT NULL DEFAULT 0,
		parent_command TEXT NOT NULL DEFAULT '',
		parent_cwd TEXT NOT NULL DEFAULT '',
		interpreter TEXT NOT NULL DEFAULT '',
		python_version TEXT NOT NULL DEFAULT '',
		project TEXT NOT NULL DEFAULT '',
		venv TEXT NOT NULL DEFAULT '',
		framework TEXT NOT NULL DEFAULT '',
		fix TEXT NOT NULL DEFAULT '',
		fix_source TEXT NOT NULL DEFAULT '',
		module TEXT NOT NULL DEFAULT '',
		module_path TEXT NOT NULL DEFAULT '',
		crash_group TEXT NOT NULL DEFAULT '',
		fork_via TEXT NOT NULL DEFAULT '',
		probe INTEGER NOT NULL DEFAULT 0,
		format TEXT NOT NULL DEFAULT '',
		report_path TEXT NOT NULL DEFAULT '',
		report TEXT NOT NULL
	);
	CREATE INDEX crashes_time ON crashes(time);
	CREATE INDEX crashes_day ON crashes(day, cause);
	CREATE INDEX crashes_cause ON crashes(cause, time);
	CREATE INDEX crashes_process ON crashes(process, time);
	CREATE INDEX crashes_seen ON crashes(seen_at);
	CREATE TABLE seen(id TEXT PRIMARY KEY, seen_at INTEGER NOT NULL) WITHOUT ROWID;
	CREATE INDEX seen_time ON seen(seen_at);
	CREATE TABLE paths(path TEXT PRIMARY KEY, id TEXT NOT NULL) WITHOUT ROWID;
	CREATE INDEX paths_id ON paths(id);
	CREATE TABLE core_files(
		id INTEGER PRIMARY KEY,
		path TEXT NOT NULL,
		pid INTEGER NOT NULL DEFAULT 0,
		process TEXT NOT NULL DEFAULT '',
		size INTEGER NOT NULL DEFAULT 0,
		found_at INTEGER NOT NULL,
		complete_at INTEGER,
		removed_at INTEGER
	);
	CREATE INDEX core_files_path ON core_files(path, removed_at);
	CREATE INDEX core_files_found ON core_files(found_at);
	CREATE TABLE imports(
		source TEXT PRIMARY KEY,
		imported_at INTEGER NOT NULL,
		seen INTEGER NOT NULL,
		paths INTEGER NOT NULL,
		cores INTEGER NOT NULL,
		recent INTEGER NOT NULL
	);`,
	// 2: what the app records beside the watcher, and projects.
	`CREATE TABLE toggles(
		id INTEGER PRIMARY KEY,
		time INTEGER NOT NULL,
		name TEXT NOT NULL,
		on_ INTEGER NOT NULL,
		detail TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX toggles_time ON toggles(time);
	CREATE TABLE probes(
		id INTEGER PRIMARY KEY,
		time INTEGER NOT NULL,
		name TEXT NOT NULL,
		ok INTEGER NOT NULL,
		detail TEXT NOT NULL DEFAULT '',
		crash_id TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX probes_time ON probes(time);
	CREATE INDEX crashes_project ON crashes(project, time);`,
	// 3: the export outbox (outbox.go).
	`CREATE TABLE outbox(
		seq INTEGER PRIMARY KEY,
		id TEXT NOT NULL UNIQUE,
		kind TEXT NOT NULL,
		time INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		payload TEXT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		sent_at INTEGER
	);
	CREATE INDEX outbox_pending ON outbox(sent_at, seq);`,
	// 4: the runtime that crashed (report.Runtimes). Crashes recorded before
	// it are read from what the row says: the Python flag, else the process
	// name as report.RuntimeOfName reads it (ruby3.3, php-fpm, perl5.30,
	// node), else other.
	`ALTER TABLE crashes ADD COLUMN runtime TEXT NOT NULL DEFAULT '';
	UPDATE crashes SET runtime = CASE
		WHEN python = 1 THEN 'python'
		WHEN lower(process) = 'ruby' OR lower(process) GLOB 'ruby[0-9]*' THEN 'ruby'
		WHEN lower(process) IN ('php', 'php-fpm', 'php-cgi') OR lower(process) GLOB 'php[0-9]*' OR lower(process) GLOB 'php-fpm[0-9]*' THEN 'php'
		WHEN lower(process) = 'perl' OR lower(process) GLOB 'perl[0-9]*' THEN 'perl'
		WHEN lower(process) IN ('node', 'nodejs') THEN 'node'
		ELSE 'other' END;
	CREATE INDEX crashes_runtime ON crashes(runtime, time);`,
	// 5: the first-risky-fork warnings (issue 30), one row per program,
	// project and fork site (key), so that a warning is given once, across
	// restarts too.
	`CREATE TABLE risky_forks(
		key TEXT PRIMARY KEY,
		time INTEGER NOT NULL,
		program TEXT NOT NULL DEFAULT '',
		project TEXT NOT NULL DEFAULT '',
		site TEXT NOT NULL DEFAULT '',
		fork_via TEXT NOT NULL DEFAULT '',
		tool TEXT NOT NULL DEFAULT '',
		fix TEXT NOT NULL DEFAULT '',
		threads TEXT NOT NULL DEFAULT '',
		reason TEXT NOT NULL DEFAULT '',
		payload TEXT NOT NULL DEFAULT ''
	) WITHOUT ROWID;
	CREATE INDEX risky_forks_time ON risky_forks(time);`,
	// 6: what pruning removed (prune.go), so that `status` can say how many
	// crashes retention took and when, instead of them going silently.
	`CREATE TABLE prunes(
		time INTEGER NOT NULL,
		crashes INTEGER NOT NULL,
		recorded_before INTEGER NOT NULL
	);`,
}

// SchemaVersion is the version this Forkwatch writes.
var SchemaVersion = len(migrations)

// schemaVersion reads the version of an open database: 0 for an empty one.
func schemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='schema_version'`).Scan(&n)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		var tables int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil {
			return 0, err
		}
		if tables > 0 {
			return 0, fmt.Errorf("%w: it has tables but no schema_version", errBadSchema)
		}
		return 0, nil
	}
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT max(version) FROM schema_version`).Scan(&v); err != nil {
		return 0, err
	}
	return int(v.Int64), nil
}

// migrate brings the database to version target (tests stop early to build
// an older schema).
func migrate(ctx context.Context, conn *sql.Conn, now time.Time, target int) error {
	v, err := schemaVersion(ctx, conn)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("%w: schema version %d, this one knows %d", ErrNewer, v, len(migrations))
	}
	for ; v < target; v++ {
		if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
		err := func() error {
			if v == 0 {
				if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
					return err
				}
			}
			if _, err := conn.ExecContext(ctx, migrations[v]); err != nil {
				return err
			}
			_, err := conn.ExecContext(ctx, `INSERT INTO schema_version(version, applied_at) VALUES(?, ?)`, v+1, now.Unix())
			return err
		}()
		if err != nil {
			_, _ = conn.ExecContext(ctx, `ROLLBACK`)
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
		if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
			_, _ = conn.ExecContext(ctx, `ROLLBACK`)
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	return nil
}
