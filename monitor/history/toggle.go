package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RecordToggleAt records a toggle change made outside the process that
// holds the database (`forkwatch set` while the app or `watch` runs), so
// that terminal users get the same marks on the page as the menu's. It
// opens the database when it is not held (Open, then RecordToggle); when
// another Forkwatch holds it, it appends the one row through its own short
// connection: SQLite serialises writers across processes itself (WAL plus
// the busy timeout, https://www.sqlite.org/wal.html#concurrency), and the
// PATH.lock only keeps a second Forkwatch from recording crashes twice.
// With no database yet, one is created.
func RecordToggleAt(path, name string, on bool, detail string, t time.Time) error {
	d, err := Open(path, Options{PruneEvery: -1})
	if d != nil {
		defer d.Close()
		return d.RecordToggle(name, on, detail, t)
	}
	if !errors.Is(err, ErrLocked) {
		return err
	}
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return fmt.Errorf("history: open %s: %w", path, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*busyTimeout)
	defer cancel()
	if _, err := db.ExecContext(ctx, `INSERT INTO toggles(time, name, on_, detail) VALUES(?, ?, ?, ?)`, t.Unix(), name, b2i(on), detail); err != nil {
		return fmt.Errorf("history: record toggle %s: %w", name, err)
	}
	return nil
}
