package history

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/forkwatch/forkwatch/monitor"
)

// RecordRiskyFork keeps a first-risky-fork warning (issue 30). It returns
// false when a warning with the same key was recorded before (by this run
// or an earlier one): the caller then gives none.
func (d *DB) RecordRiskyFork(w monitor.RiskyFork) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	payload, err := json.Marshal(w)
	if err != nil {
		return false, fmt.Errorf("history: risky fork: %w", err)
	}
	added := false
	err = d.write(func() error {
		res, err := d.conn.ExecContext(context.Background(), `INSERT OR IGNORE INTO risky_forks(key, time, program, project, site, fork_via, tool, fix, threads, reason, payload) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.Key, w.Time.Unix(), w.Program, w.Project, w.Site, w.Via, w.Tool, w.Fix, strings.Join(w.Threads, ", "), w.Reason, string(payload))
		if err != nil {
			return fmt.Errorf("history: record risky fork %s: %w", w.Site, err)
		}
		n, _ := res.RowsAffected()
		added = n > 0
		return nil
	})
	return added, err
}

// RiskyForks lists the warnings recorded, oldest first.
func (d *DB) RiskyForks() ([]monitor.RiskyFork, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return nil, fmt.Errorf("history: closed")
	}
	rows, err := d.conn.QueryContext(context.Background(), `SELECT payload FROM risky_forks ORDER BY time, key`)
	if err != nil {
		return nil, fmt.Errorf("history: risky forks: %w", err)
	}
	defer rows.Close()
	var out []monitor.RiskyFork
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("history: risky forks: %w", err)
		}
		var w monitor.RiskyFork
		if json.Unmarshal([]byte(p), &w) == nil {
			out = append(out, w)
		}
	}
	return out, rows.Err()
}
