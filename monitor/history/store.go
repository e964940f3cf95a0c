package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"time"

	"github.com/forkwatch/forkwatch/monitor"
)

var _ monitor.Store = (*DB)(nil)

// stmts are prepared once on the writing connection: the detection path
// runs a lookup and three inserts per crash.
type stmts struct {
	pathID, insertSeen, insertCrash, setPath, forgetPath,
	coreActive, coreUpdate, coreInsert, coreRemove *sql.Stmt
}

func prepare(ctx context.Context, conn *sql.Conn) (stmts, error) {
	var s stmts
	var err error
	p := func(dst **sql.Stmt, q string) {
		if err != nil {
			return
		}
		*dst, err = conn.PrepareContext(ctx, q)
		if err != nil {
			err = fmt.Errorf("prepare %q: %w", q, err)
		}
	}
	p(&s.pathID, `SELECT id FROM paths WHERE path = ?`)
	p(&s.insertSeen, `INSERT OR IGNORE INTO seen(id, seen_at) VALUES(?, ?)`)
	p(&s.insertCrash, `INSERT OR IGNORE INTO crashes(id, seen_at, time, day, cause, process, pid,
		parent_process, parent_pid, responsible_process, exe_path, bundle_id, os_version, exception,
		signal, termination, python, fork_child, objc_fork_safety, objc_class, trigger_frame, advice,
		partial, parent_command, parent_cwd, interpreter, python_version, project, venv, framework,
		fix, fix_source, module, module_path, crash_group, fork_via, probe, format, report_path, report, runtime)
		VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	p(&s.setPath, `INSERT INTO paths(path, id) VALUES(?, ?) ON CONFLICT(path) DO UPDATE SET id = excluded.id WHERE id != excluded.id`)
	p(&s.forgetPath, `DELETE FROM paths WHERE path = ?`)
	p(&s.coreActive, `SELECT id, size, complete_at IS NOT NULL FROM core_files WHERE path = ? AND removed_at IS NULL ORDER BY id DESC LIMIT 1`)
	p(&s.coreUpdate, `UPDATE core_files SET size = ?, complete_at = coalesce(?, complete_at), pid = CASE WHEN ? != 0 THEN ? ELSE pid END, process = CASE WHEN ? != '' THEN ? ELSE process END WHERE id = ?`)
	p(&s.coreInsert, `INSERT INTO core_files(path, pid, process, size, found_at, complete_at) VALUES(?, ?, ?, ?, ?, ?)`)
	p(&s.coreRemove, `UPDATE core_files SET removed_at = ? WHERE path = ? AND removed_at IS NULL`)
	if err != nil {
		s.close()
	}
	return s, err
}

func (s stmts) close() {
	for _, st := range []*sql.Stmt{s.pathID, s.insertSeen, s.insertCrash, s.setPath, s.forgetPath, s.coreActive, s.coreUpdate, s.coreInsert, s.coreRemove} {
		if st != nil {
			st.Close()
		}
	}
}

// Pending writes. The Store methods run on the detection path, between
// reading a report and emitting it: they only note what to write (and
// answer reads from these notes first), and Save writes it all in one
// transaction. Measured (BenchmarkMarkSeen, BenchmarkDetectLatency): a
// commit per crash costs about 100 µs, a batch about 25 µs per crash, and
// noting the write costs nothing measurable, so detection keeps the JSON
// State's latency.
type opKind int

const (
	opSeen opKind = iota
	opPath
	opForget
	opCore
)

type pendingOp struct {
	kind opKind
	r    *report.Report
	at   time.Time
	path string
	id   string
	size int64
}

// maxPending bounds what is kept in memory while the disk refuses writes
// (full disk): beyond it the oldest notes are dropped, and those crashes
// are announced again after a restart rather than lost.
const maxPending = 100_000

type pending struct {
	ops  []pendingOp
	seen map[string]bool
	path map[string]string // "" means forgotten
	core map[string]*int64 // nil means removed
}

func (p *pending) reset() {
	p.ops = nil
	p.seen = map[string]bool{}
	p.path = map[string]string{}
	p.core = map[string]*int64{}
}

func (p *pending) add(op pendingOp) {
	if p.seen == nil {
		p.reset()
	}
	if len(p.ops) >= maxPending {
		p.ops = p.ops[1:]
	}
	p.ops = append(p.ops, op)
}

// fail keeps the first error since the last Save for Save to return.
// Called with mu held.
func (d *DB) fail(err error) {
	d.opts.Log.Warn("history", "err", err)
	if d.err == nil {
		d.err = err
	}
}

// FirstRun is true when the database was new and nothing was imported: the
// first run's sweep lists history without notifying it.
func (d *DB) FirstRun() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.firstRun
}

// Seen reports whether the crash with this ID was announced before: noted
// since the last save, or in the seen table (DB.known, in memory).
func (d *DB) Seen(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pend.seen[id] {
		return true
	}
	if d.conn == nil {
		return false
	}
	_, ok := d.known[id]
	return ok
}

// PathID returns the crash ID last read from path, if any.
func (d *DB) PathID(path string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if id, ok := d.pend.path[path]; ok {
		return id, id != ""
	}
	if d.conn == nil {
		return "", false
	}
	var id string
	err := d.st.pathID.QueryRow(path).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		d.fail(fmt.Errorf("history: path %q: %w", path, err))
	}
	return id, err == nil
}

// KnownPaths returns every known report path (a fresh map).
func (d *DB) KnownPaths() map[string]bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := map[string]bool{}
	if d.conn != nil {
		if err := d.knownPaths(m); err != nil {
			d.fail(fmt.Errorf("history: known paths: %w", err))
		}
	}
	for p, id := range d.pend.path {
		if id == "" {
			delete(m, p)
		} else {
			m[p] = true
		}
	}
	return m
}

// KnownIDs returns the crash IDs seen, for the start-up sweep (which
// skips a report whose ID is known without parsing it), as a fresh map.
func (d *DB) KnownIDs() map[string]bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := make(map[string]bool, len(d.known)+len(d.pend.seen))
	for id := range d.known {
		m[id] = true
	}
	for id := range d.pend.seen {
		m[id] = true
	}
	return m
}

// loadKnown reads the seen table's ids into d.known. mu held (or d not
// yet shared).
func (d *DB) loadKnown() error {
	rows, err := d.conn.QueryContext(bg, `SELECT id FROM seen`)
	if err != nil {
		return err
	}
	defer rows.Close()
	known := map[string]struct{}{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		known[id] = struct{}{}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	d.known = known
	return nil
}

// BadPaths lists the bad files the watcher remembers (monitor's
// badfile.go), path to id, for the sweep to tell one changed since.
func (d *DB) BadPaths() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := map[string]string{}
	if d.conn == nil {
		return m
	}
	rows, err := d.conn.QueryContext(bg, `SELECT path, id FROM paths WHERE id GLOB 'bad:*'`)
	if err != nil {
		d.fail(err)
		return m
	}
	defer rows.Close()
	for rows.Next() {
		var p, id string
		if rows.Scan(&p, &id) == nil {
			m[p] = id
		}
	}
	for _, op := range d.pend.ops {
		if op.kind == opPath && monitor.IsBadID(op.id) {
			m[op.path] = op.id
		}
	}
	return m
}

func (d *DB) knownPaths(m map[string]bool) error {
	rows, err := d.conn.QueryContext(bg, `SELECT path FROM paths`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return err
		}
		m[p] = true
	}
	return rows.Err()
}

// MarkSeen records a crash, its id and the file it was read from.
func (d *DB) MarkSeen(r *report.Report, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cp := *r
	d.pend.add(pendingOp{kind: opSeen, r: &cp, at: now})
	d.pend.seen[r.ID] = true
	if r.Path != "" {
		d.pend.path[r.Path] = r.ID
	}
}

// MarkPath records that path holds an already seen crash.
func (d *DB) MarkPath(path, id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pend.add(pendingOp{kind: opPath, path: path, id: id})
	d.pend.path[path] = id
}

// ForgetPath drops a report path that no longer exists, and marks a core
// file at that path removed (its size counts as reclaimed).
func (d *DB) ForgetPath(path string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pend.add(pendingOp{kind: opForget, path: path, at: d.opts.Now()})
	d.pend.path[path] = ""
	d.pend.core[path] = nil
}

// CoreAnnounced returns the size at which the core file at path (still on
// disk) was announced complete.
func (d *DB) CoreAnnounced(path string) (int64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n, ok := d.pend.core[path]; ok {
		if n == nil {
			return 0, false
		}
		return *n, true
	}
	if d.conn == nil {
		return 0, false
	}
	var id, size int64
	var complete bool
	err := d.st.coreActive.QueryRow(path).Scan(&id, &size, &complete)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		d.fail(fmt.Errorf("history: core %s: %w", path, err))
	}
	return size, err == nil && complete
}

// MarkCore records a core file announced complete at size.
func (d *DB) MarkCore(path string, size int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pend.add(pendingOp{kind: opCore, path: path, size: size, at: d.opts.Now()})
	d.pend.core[path] = &size
}

// insertCrash writes the seen id, the crash row and its path. mu held, in
// a transaction.
func (d *DB) insertCrash(r *report.Report, now time.Time) error {
	res, err := d.st.insertSeen.Exec(r.ID, now.Unix())
	if err != nil {
		return fmt.Errorf("history: record %q: %w", r.ID, err)
	}
	d.txSeen = append(d.txSeen, r.ID)
	if n, _ := res.RowsAffected(); n > 0 {
		if err := d.crashRow(d.st.insertCrash, r, now); err != nil {
			return err
		}
		if err := d.outboxCrash(r, now); err != nil {
			return err
		}
	}
	if r.Path != "" {
		if _, err := d.st.setPath.Exec(r.Path, r.ID); err != nil {
			return fmt.Errorf("history: record path %s: %w", r.Path, err)
		}
	}
	return nil
}

// apply writes one pending note. mu held, in a transaction.
func (d *DB) apply(op pendingOp) error {
	switch op.kind {
	case opSeen:
		return d.insertCrash(op.r, op.at)
	case opPath:
		if _, err := d.st.setPath.Exec(op.path, op.id); err != nil {
			return fmt.Errorf("history: record path %s: %w", op.path, err)
		}
	case opForget:
		if _, err := d.st.forgetPath.Exec(op.path); err != nil {
			return fmt.Errorf("history: forget %s: %w", op.path, err)
		}
		if _, err := d.st.coreRemove.Exec(op.at.Unix(), op.path); err != nil {
			return fmt.Errorf("history: forget core %s: %w", op.path, err)
		}
	case opCore:
		t := op.at.Unix()
		return d.upsertCore(report.CoreFile{Path: op.path, Size: op.size}, t, &t)
	}
	return nil
}

// crashTime is when the crash happened: the report's own time, else when
// it was seen.
func crashTime(r *report.Report, seen time.Time) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999 -0700", "2006-01-02 15:04:05 -0700"} {
		if t, err := time.Parse(layout, r.Time); err == nil {
			return t
		}
	}
	return seen
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (d *DB) crashRow(st *sql.Stmt, r *report.Report, seen time.Time) error {
	js, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("history: encode %q: %w", r.ID, err)
	}
	t := crashTime(r, seen)
	_, err = st.Exec(r.ID, seen.Unix(), t.Unix(), t.In(d.opts.Location).Format(time.DateOnly), r.Cause, r.Process, r.PID,
		r.ParentProcess, r.ParentPID, r.ResponsibleProcess, r.ExePath, r.BundleID, r.OSVersion, r.Exception,
		r.Signal, r.Termination, b2i(r.Python), b2i(r.ForkChild), b2i(r.ObjCForkSafety), r.ObjCClass, r.Trigger, r.Advice,
		b2i(r.Partial), r.ParentCommand, r.ParentCwd, r.Interpreter, r.PythonVersion, r.Project, r.Venv, r.Framework,
		r.Fix, r.FixSource, r.Module, r.ModulePath, r.Group, r.ForkVia, b2i(r.Probe), r.Format, r.Path, string(js), report.RuntimeOrOther(r))
	if err != nil {
		return fmt.Errorf("history: record crash %q: %w", r.ID, err)
	}
	return nil
}

// upsertCore updates the core file's row while it is on disk, or starts
// one. mu held.
func (d *DB) upsertCore(c report.CoreFile, now int64, complete *int64) error {
	var id, size int64
	var done bool
	err := d.st.coreActive.QueryRow(c.Path).Scan(&id, &size, &done)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = d.st.coreInsert.Exec(c.Path, c.PID, c.Process, c.Size, now, complete)
	case err == nil:
		_, err = d.st.coreUpdate.Exec(c.Size, complete, c.PID, c.PID, c.Process, c.Process, id)
	}
	if err != nil {
		return fmt.Errorf("history: record core %s: %w", c.Path, err)
	}
	return nil
}

// Recent returns the last crashes seen, oldest first. It writes what is
// pending first, so the crash just announced is in it.
func (d *DB) Recent() []report.Report {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return nil
	}
	if err := d.write(nil); err != nil {
		d.fail(err)
	}
	rows, err := d.conn.QueryContext(bg, `SELECT report FROM crashes ORDER BY seen_at DESC, rowid DESC LIMIT ?`, recentLimit)
	if err != nil {
		d.fail(fmt.Errorf("history: recent: %w", err))
		return nil
	}
	defer rows.Close()
	var out []report.Report
	for rows.Next() {
		var js string
		var r report.Report
		if rows.Scan(&js) == nil && json.Unmarshal([]byte(js), &r) == nil {
			out = append(out, r)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Save writes what was marked since the last Save in one transaction, and
// returns the first error since then. When the write fails (disk full) the
// notes are kept and written at the next Save: an event already printed is
// not forgotten while the process runs.
func (d *DB) Save() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	err := d.write(nil)
	err = errors.Join(d.err, err)
	d.err = nil
	return err
}

// write runs, in one transaction, the pending notes and then extra (may be
// nil). On success the notes are cleared; on failure everything is rolled
// back and the notes stay. mu held.
func (d *DB) write(extra func() error) error {
	if len(d.pend.ops) == 0 && extra == nil {
		return nil
	}
	if d.conn == nil {
		return errors.New("history: closed")
	}
	if _, err := d.conn.ExecContext(bg, `BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("history: save %s: %w", d.path, err)
	}
	d.txSeen = d.txSeen[:0]
	err := func() error {
		for _, op := range d.pend.ops {
			if err := d.apply(op); err != nil {
				return err
			}
		}
		if extra != nil {
			return extra()
		}
		return nil
	}()
	if err == nil {
		_, err = d.conn.ExecContext(bg, `COMMIT`)
	}
	if err != nil {
		_, _ = d.conn.ExecContext(bg, `ROLLBACK`)
		return fmt.Errorf("history: save %s: %w", d.path, err)
	}
	for _, id := range d.txSeen {
		d.known[id] = struct{}{}
	}
	d.pend.reset()
	return nil
}

// RecordCore records a core file as it appears or grows (the app calls it
// for each core event: found, then final size). pid and process are kept.
func (d *DB) RecordCore(c report.CoreFile, t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var complete *int64
	if c.Complete {
		n := t.Unix()
		complete = &n
	}
	return d.write(func() error {
		if err := d.upsertCore(c, t.Unix(), complete); err != nil {
			return err
		}
		return d.outboxCore(c, t)
	})
}

// RecordCoreRemoved records that the core file at path was deleted (by
// Forkwatch's "Delete core files" or found gone): its size counts as
// reclaimed from t on.
func (d *DB) RecordCoreRemoved(path string, t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.write(func() error {
		if _, err := d.st.coreRemove.Exec(t.Unix(), path); err != nil {
			return fmt.Errorf("history: record core removed %s: %w", path, err)
		}
		return nil
	})
}

// RecordToggle records a toggle change, shown as a mark on the timeline.
func (d *DB) RecordToggle(name string, on bool, detail string, t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.write(func() error {
		res, err := d.conn.ExecContext(context.Background(), `INSERT INTO toggles(time, name, on_, detail) VALUES(?, ?, ?, ?)`, t.Unix(), name, b2i(on), detail)
		if err != nil {
			return fmt.Errorf("history: record toggle %s: %w", name, err)
		}
		return d.outboxRow("toggle", res, t, OutboxToggle{Name: name, On: on, Detail: detail})
	})
}

// Probe is one result of `forkwatch doctor --probe`.
type Probe struct {
	Time    time.Time
	Name    string // what was probed, e.g. the interpreter
	OK      bool   // true: the child survived the fork
	Detail  string
	CrashID string // the probe child's crash, when it crashed
}

// RecordProbe records a probe result.
func (d *DB) RecordProbe(p Probe) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.write(func() error {
		res, err := d.conn.ExecContext(context.Background(), `INSERT INTO probes(time, name, ok, detail, crash_id) VALUES(?, ?, ?, ?, ?)`, p.Time.Unix(), p.Name, b2i(p.OK), p.Detail, p.CrashID)
		if err != nil {
			return fmt.Errorf("history: record probe %s: %w", p.Name, err)
		}
		return d.outboxRow("probe", res, p.Time, OutboxProbe{Name: p.Name, OK: p.OK, Detail: p.Detail, CrashID: p.CrashID})
	})
}
