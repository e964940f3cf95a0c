package history

import (
	"context"
	"fmt"
	"time"
)

// bg is the context of the writer's statements: the Store interface has
// none, and each statement is bounded by the busy timeout.
var bg = context.Background()

// pruneChunk bounds how long one pruning step holds the mutex (and the
// write lock), so that detection waits at most a few milliseconds.
const pruneChunk = 500

// pruneLoop prunes at Open, then every PruneEvery, off the detection
// path.
func (d *DB) pruneLoop(ctx context.Context) {
	defer close(d.pruneDone)
	t := time.NewTimer(d.opts.PruneEvery)
	defer t.Stop()
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
		if n, err := d.Prune(ctx); err != nil {
			d.opts.Log.Warn("history: prune", "err", err)
		} else if n > 0 {
			d.opts.Log.Info("history: pruned", "crashes", n)
		}
		t.Reset(d.opts.PruneEvery)
	}
}

// Prune deletes what is past the retention: crashes older than MaxAge or
// beyond the newest MaxCrashes, with their seen ids unless a report file
// still names them; toggle changes, probe results and removed core files
// older than MaxAge. It works in small transactions and returns the number
// of crashes deleted.
func (d *DB) Prune(ctx context.Context) (int, error) {
	cutoff := d.opts.Now().Add(-d.opts.MaxAge).Unix()
	// The time of the MaxCrashes-th newest crash: older ones go too.
	var nth int64
	err := d.Reader.db.QueryRowContext(ctx, `SELECT coalesce((SELECT time FROM crashes ORDER BY time DESC LIMIT 1 OFFSET ?), 0)`, d.opts.MaxCrashes).Scan(&nth)
	if err != nil {
		return 0, fmt.Errorf("history: prune: %w", err)
	}
	if nth >= cutoff {
		cutoff = nth + 1
	}
	total := 0
	steps := []string{
		`DELETE FROM crashes WHERE rowid IN (SELECT rowid FROM crashes WHERE time < ?1 LIMIT ` + fmt.Sprint(pruneChunk) + `)`,
		`DELETE FROM seen WHERE id IN (SELECT id FROM seen WHERE seen_at < ?1 AND id NOT IN (SELECT id FROM paths) AND id NOT IN (SELECT id FROM crashes) LIMIT ` + fmt.Sprint(pruneChunk) + `)`,
		`DELETE FROM toggles WHERE id IN (SELECT id FROM toggles WHERE time < ?2 LIMIT ` + fmt.Sprint(pruneChunk) + `)`,
		`DELETE FROM probes WHERE id IN (SELECT id FROM probes WHERE time < ?2 LIMIT ` + fmt.Sprint(pruneChunk) + `)`,
		`DELETE FROM core_files WHERE id IN (SELECT id FROM core_files WHERE removed_at < ?2 LIMIT ` + fmt.Sprint(pruneChunk) + `)`,
	}
	ageCutoff := d.opts.Now().Add(-d.opts.MaxAge).Unix()
	for i, q := range steps {
		for {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			n, err := d.pruneStep(q, cutoff, ageCutoff)
			if err != nil {
				return total, err
			}
			if i == 0 {
				total += n
			}
			if n < pruneChunk {
				break
			}
		}
	}
	return total, nil
}

// pruneStep runs one bounded delete in its own transaction (with what the
// watcher had noted).
func (d *DB) pruneStep(q string, cutoff, ageCutoff int64) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var n int64
	err := d.write(func() error {
		res, err := d.conn.ExecContext(bg, q, cutoff, ageCutoff)
		if err != nil {
			return fmt.Errorf("prune: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}
