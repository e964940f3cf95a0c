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
		if _, err := d.Prune(ctx); err != nil {
			d.opts.Log.Warn("history: prune", "err", err)
		}
		t.Reset(d.opts.PruneEvery)
	}
}

// Pruned is what one pruning removed: Crashes crashes, every one recorded
// by Forkwatch before RecordedBefore.
type Pruned struct {
	Time           time.Time
	Crashes        int
	RecordedBefore time.Time
}

// Prune deletes what is past the retention: crashes Forkwatch recorded more
// than MaxAge ago, or beyond the newest MaxCrashes recorded (the oldest
// recorded go first), with their seen ids unless a report file still names
// them; toggle changes, probe results and removed core files older than
// MaxAge. Retention goes by when Forkwatch recorded a crash (seen_at),
// never by the report's own time: a report dated years ago that was found
// today is kept for the whole retention (issue 32: the sample reports,
// dated 2019-2024, vanished at the next start). It works in small
// transactions and returns the number of crashes deleted; a pruning that
// removed crashes is logged, kept in the prunes table (for `status`) and
// passed to Options.OnPrune.
func (d *DB) Prune(ctx context.Context) (int, error) {
	ageCutoff := d.opts.Now().Add(-d.opts.MaxAge).Unix()
	cutoff := ageCutoff
	// The recording time of the MaxCrashes-th newest crash: those recorded
	// before it go too.
	var nth int64
	err := d.Reader.db.QueryRowContext(ctx, `SELECT coalesce((SELECT seen_at FROM crashes ORDER BY seen_at DESC LIMIT 1 OFFSET ?), 0)`, d.opts.MaxCrashes).Scan(&nth)
	if err != nil {
		return 0, fmt.Errorf("history: prune: %w", err)
	}
	if nth >= cutoff {
		cutoff = nth + 1
	}
	total := 0
	steps := []string{
		`DELETE FROM crashes WHERE rowid IN (SELECT rowid FROM crashes WHERE seen_at < ?1 LIMIT ` + fmt.Sprint(pruneChunk) + `)`,
		`DELETE FROM seen WHERE id IN (SELECT id FROM seen WHERE seen_at < ?1 AND id NOT IN (SELECT id FROM paths) AND id NOT IN (SELECT id FROM crashes) LIMIT ` + fmt.Sprint(pruneChunk) + `)`,
		`DELETE FROM toggles WHERE id IN (SELECT id FROM toggles WHERE time < ?2 LIMIT ` + fmt.Sprint(pruneChunk) + `)`,
		`DELETE FROM probes WHERE id IN (SELECT id FROM probes WHERE time < ?2 LIMIT ` + fmt.Sprint(pruneChunk) + `)`,
		`DELETE FROM core_files WHERE id IN (SELECT id FROM core_files WHERE removed_at < ?2 LIMIT ` + fmt.Sprint(pruneChunk) + `)`,
	}
	for i, q := range steps {
		for {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			n, err := d.pruneStep(q, cutoff, ageCutoff, i == 1)
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
	if total > 0 {
		d.notePruned(Pruned{Time: d.opts.Now(), Crashes: total, RecordedBefore: time.Unix(cutoff, 0)})
	}
	return total, nil
}

// notePruned says what a pruning removed: in the log, in the prunes table
// and to Options.OnPrune.
func (d *DB) notePruned(p Pruned) {
	d.opts.Log.Info("history: pruned crashes past the retention", "crashes", p.Crashes, "recorded_before", p.RecordedBefore.Format(time.RFC3339))
	d.mu.Lock()
	err := d.write(func() error {
		_, err := d.conn.ExecContext(bg, `INSERT INTO prunes(time, crashes, recorded_before) VALUES(?, ?, ?)`, p.Time.Unix(), p.Crashes, p.RecordedBefore.Unix())
		return err
	})
	d.mu.Unlock()
	if err != nil {
		d.opts.Log.Warn("history: note the pruning", "err", err)
	}
	if d.opts.OnPrune != nil {
		d.opts.OnPrune(p)
	}
}

// PrunedTotal is how many crashes pruning has removed from this database,
// and the last pruning that removed any (zero when none has).
func (r *Reader) PrunedTotal(ctx context.Context) (int, Pruned, error) {
	var total int
	var last Pruned
	if err := r.db.QueryRowContext(ctx, `SELECT coalesce(sum(crashes), 0) FROM prunes`).Scan(&total); err != nil {
		return 0, last, fmt.Errorf("history: read prunes: %w", err)
	}
	if total == 0 {
		return 0, last, nil
	}
	var at, before int64
	err := r.db.QueryRowContext(ctx, `SELECT time, crashes, recorded_before FROM prunes ORDER BY time DESC, rowid DESC LIMIT 1`).Scan(&at, &last.Crashes, &before)
	if err != nil {
		return 0, last, fmt.Errorf("history: read prunes: %w", err)
	}
	last.Time, last.RecordedBefore = time.Unix(at, 0), time.Unix(before, 0)
	return total, last, nil
}

// pruneStep runs one bounded delete in its own transaction (with what the
// watcher had noted).
func (d *DB) pruneStep(q string, cutoff, ageCutoff int64, seenIDs bool) (int, error) {
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
	if err == nil && seenIDs && n > 0 {
		// Seen ids were deleted: Seen's copy of the table is read again.
		if err := d.loadKnown(); err != nil {
			return int(n), fmt.Errorf("history: prune: known ids: %w", err)
		}
	}
	return int(n), err
}
