// Package history keeps everything Forkwatch has seen (crashes, core files,
// toggle changes, probe results) in an SQLite database, and is the watcher's
// memory between runs: a *DB is a monitor.Store, so the "seen" ids and known
// report paths live in the same file and nothing is rewritten whole per event.
//
// The driver is modernc.org/sqlite, a pure-Go SQLite, so the cgo-less macOS
// build still covers it. Users can open the file with sqlite3; the tables are
// described in schema.go.
package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors that callers tell apart with errors.Is.
var (
	// ErrLocked means another Forkwatch process is recording into this
	// database (it holds PATH.lock). Two writers never share a database.
	ErrLocked = errors.New("history database in use by another Forkwatch process")
	// ErrSetAside accompanies a usable, fresh *DB: the old file could not be
	// opened (corrupt, not a database, locked by another program) and was
	// renamed PATH.corrupt-TIME so that nothing in it is lost.
	ErrSetAside = errors.New("history database set aside")
	// ErrNewer means the file was written by a newer Forkwatch whose schema
	// this one does not know; it is left alone.
	ErrNewer = errors.New("history database is from a newer Forkwatch")
	// ErrNoHistory means there is no database file yet (nothing recorded).
	ErrNoHistory = errors.New("no history recorded yet")
	// ErrNotHistory means OpenReader was given a file that is not a
	// Forkwatch history database (a text file, another program's SQLite).
	ErrNotHistory = errors.New("not a history database")
)

// Retention defaults: a year or 100,000 crashes, whichever is less.
const (
	DefaultMaxAge     = 365 * 24 * time.Hour
	DefaultMaxCrashes = 100_000
	DefaultPruneEvery = 24 * time.Hour
	// busyTimeout is how long a statement waits for a lock held by another
	// connection (a user's sqlite3, the history command checkpointing)
	// before it fails with SQLITE_BUSY.
	busyTimeout = 2 * time.Second
	// recentLimit is how many crashes Recent returns (the menu shows ten).
	recentLimit = 50
)

// Options tune a DB; the zero value gives the defaults.
type Options struct {
	MaxAge     time.Duration // crashes recorded longer ago than this are pruned
	MaxCrashes int           // beyond this many, the oldest recorded are pruned
	// PruneEvery is the interval of the background pruning; the first run
	// is at Open (off the caller's goroutine). Daily by default: retention
	// is counted in days, and an idle Forkwatch should not wake for it.
	// Negative: no background pruning (tests call Prune themselves).
	PruneEvery time.Duration
	Log        *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// Location is the time zone that decides which day a crash belongs to;
	// nil is time.Local.
	Location *time.Location
	// OnPrune, when set, hears of each pruning that removed crashes (from
	// the pruning goroutine), so that `watch` can say so.
	OnPrune func(Pruned)
}

func (o *Options) fill() {
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.MaxCrashes <= 0 {
		o.MaxCrashes = DefaultMaxCrashes
	}
	if o.PruneEvery == 0 {
		o.PruneEvery = DefaultPruneEvery
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
}

// DB is the history database opened for writing by one process. Its Store
// methods are called from the watch loop; the Record methods and the
// queries may be called from other goroutines: one mutex orders them.
//
// The Store methods note their writes in memory and Save writes them in one
// transaction (the watcher calls Save about a second after the first
// change), so a burst of 1,000 reports costs one commit, and the reads on
// the detection path (Seen, PathID) see the notes. Record methods write at
// once (with the notes): they are rare and come from outside the watch loop.
type DB struct {
	*Reader // queries, on their own read-only connections

	path   string
	opts   Options
	unlock func()

	mu   sync.Mutex
	db   *sql.DB
	conn *sql.Conn // the one writing connection
	st   stmts
	pend pending
	// known holds the ids in the seen table, so that Seen is a lookup in
	// memory, not a query on the detection path (75 µs of a crash's 500
	// µs to its line, with the caches cold between crashes). It is exact:
	// this process is the only one that writes crashes while it holds
	// PATH.lock (RecordToggleAt writes toggles only); it is loaded at Open,
	// added to when a write commits (txSeen: the ids that write inserted)
	// and loaded again after pruning deleted ids.
	known    map[string]struct{}
	txSeen   []string
	err      error // first failed read since the last Save
	firstRun bool
	// outbox is on while an export endpoint is set (outbox.go).
	outbox bool

	stopPrune context.CancelFunc
	pruneDone chan struct{}
}

// Open opens (creating or migrating) the database at path for writing and
// takes PATH.lock so that no second Forkwatch process writes it at the same
// time (ErrLocked). A file that cannot be opened as a database (corrupt,
// not SQLite, locked by another program past the busy timeout) is renamed
// PATH.corrupt-TIME (with its -wal and -shm files) and a fresh database is
// started: Open then returns the new *DB together with an error wrapping
// ErrSetAside that says where the old file went, for the caller to log.
func Open(path string, opts Options) (*DB, error) {
	opts.fill()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("history: create %s: %w", filepath.Dir(path), err)
	}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	_, statErr := os.Lstat(path)
	existed := statErr == nil
	d, err := openLocked(path, opts)
	var setAside error
	if err != nil && !errors.Is(err, ErrNewer) && unusable(err) {
		aside := fmt.Sprintf("%s.corrupt-%s", path, opts.Now().UTC().Format("20060102T150405Z"))
		if rerr := setAsideFiles(path, aside); rerr != nil {
			unlock()
			return nil, fmt.Errorf("history: %s cannot be opened (%v) nor moved aside: %w", path, err, rerr)
		}
		setAside = fmt.Errorf("%w: %s could not be opened (%v); moved to %s and started afresh (earlier crashes stay there; the state.json import can be redone)", ErrSetAside, path, err, aside)
		opts.Log.Error("history database set aside", "path", path, "aside", aside, "err", err)
		d, err = openLocked(path, opts)
	}
	if err != nil {
		unlock()
		return nil, err
	}
	d.unlock = unlock
	// A first run is a new file with nothing imported yet. A set-aside
	// database is not one: treating it so would hide the crashes already on
	// disk, never repeat them (as monitor.State does with a corrupt file).
	switch {
	case setAside != nil:
		d.firstRun = false
	case !existed:
		d.firstRun = true
	default:
		var n int
		err := d.conn.QueryRowContext(bg, `SELECT EXISTS(SELECT 1 FROM seen) + EXISTS(SELECT 1 FROM paths) + EXISTS(SELECT 1 FROM imports)`).Scan(&n)
		d.firstRun = err == nil && n == 0
	}
	if opts.PruneEvery > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		d.stopPrune, d.pruneDone = cancel, make(chan struct{})
		go d.pruneLoop(ctx)
	}
	return d, setAside
}

// dsn is the driver's file URL with the pragmas every connection needs:
// WAL so that readers (the history command, the page) never block the
// watcher, a busy timeout, NORMAL sync (in WAL mode a power cut may lose
// the last commits but never corrupts the file: https://www.sqlite.org/pragma.html#pragma_synchronous).
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	if readOnly {
		q.Add("mode", "ro")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	q.Add("_pragma", "foreign_keys(1)")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

func openLocked(path string, opts Options) (*DB, error) {
	ctx := context.Background()
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("history: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("history: open %s: %w", path, err)
	}
	if err := migrate(ctx, conn, opts.Now(), len(migrations)); err != nil {
		conn.Close()
		db.Close()
		return nil, fmt.Errorf("history: %s: %w", path, err)
	}
	st, err := prepare(ctx, conn)
	if err != nil {
		conn.Close()
		db.Close()
		return nil, fmt.Errorf("history: %s: %w", path, err)
	}
	// The -wal and -shm files exist now (WAL mode). SQLite gives a new
	// one the database file's permissions, so they are 0600 from the
	// start; those an older version left 0644 are corrected here.
	if err := privateFiles(path); err != nil {
		opts.Log.Warn("history: permissions", "err", err)
	}
	r, err := openReader(path, opts.Location)
	if err != nil {
		st.close()
		conn.Close()
		db.Close()
		return nil, err
	}
	d := &DB{Reader: r, path: path, opts: opts, db: db, conn: conn, st: st}
	d.pend.reset()
	if err := d.loadKnown(); err != nil {
		d.Reader.Close()
		st.close()
		conn.Close()
		db.Close()
		return nil, fmt.Errorf("history: %s: known ids: %w", path, err)
	}
	return d, nil
}

// createPrivate makes sure the database file exists with mode 0600 before
// SQLite opens it, whatever the umask: SQLite creates the -wal and -shm
// files with the permissions of the database file ("the same permissions
// as the original database file", robust_open in sqlite3's os_unix.c), and
// all three hold command lines and project paths. An empty file is an
// empty database to SQLite. A symbolic link at path is refused.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("history: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("history: stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("history: %s is not a regular file", path)
	}
	if fi.Mode().Perm() != 0o600 {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("history: chmod %s: %w", path, err)
		}
	}
	return nil
}

// privateFiles sets the database's -wal and -shm files to 0600 and checks
// that all three are.
func privateFiles(path string) error {
	var errs []error
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm() != 0o600 {
			// fchmod on a descriptor opened without following a link:
			// chmod(2) by name would follow one swapped in since Lstat.
			err = chmodNoFollow(p, 0o600)
			if err == nil {
				fi, err = os.Lstat(p)
			}
		}
		if err == nil && fi.Mode().Perm() != 0o600 {
			err = fmt.Errorf("%s has mode %o, not 0600", p, fi.Mode().Perm())
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// chmodNoFollow sets the mode of the regular file at p, never of what a
// link there leads to.
func chmodNoFollow(p string, mode fs.FileMode) error {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", p)
	}
	return f.Chmod(mode)
}

// unusable says whether an open error means the file itself is bad (or
// held by another program), so that setting it aside is the way on. Errors
// of the folder (permission, disk full) are not: a fresh file would fail
// the same way.
func unusable(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FORMAT:
			return true
		}
	}
	return errors.Is(err, errBadSchema)
}

// setAsideFiles renames the database and its WAL and shared-memory files
// (a stale -wal beside a fresh database would be replayed into it).
func setAsideFiles(path, aside string) error {
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Rename(path+suffix, aside+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return os.Rename(path, aside)
}

// lockFile takes an flock(2) on path without waiting, like settings.TryLock
// (monitor must not import settings). The lock goes with the process.
func lockFile(path string) (func(), error) {
	// O_NOFOLLOW: a link planted in the lock's place is refused, not
	// followed (root run with the user's HOME would create or open the
	// link's target).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("history: open lock %s: %w", path, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("history: lock %s: not a regular file", path)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s is held)", ErrLocked, path)
		}
		return nil, fmt.Errorf("history: lock %s: %w", path, err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// Path is the database file.
func (d *DB) Path() string { return d.path }

// Close commits what is pending, stops the pruning, closes the database and
// releases the lock.
func (d *DB) Close() error {
	if d.stopPrune != nil {
		d.stopPrune()
		<-d.pruneDone
		d.stopPrune = nil
	}
	err := d.Save()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return err
	}
	d.st.close()
	err = errors.Join(err, d.conn.Close(), d.db.Close(), d.Reader.Close())
	d.conn = nil
	if d.unlock != nil {
		d.unlock()
	}
	return err
}
