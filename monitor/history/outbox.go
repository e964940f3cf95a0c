package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"time"
)

// The outbox: what Forkwatch exports over OpenTelemetry goes into the
// history database first, in the same transaction that records it, and the
// exporter (monitor/export) sends from here and marks what the collector
// accepted. So nothing is lost while the Mac is offline, the collector is
// down, Forkwatch restarts or the Mac sleeps; and each event keeps one id
// (a crash's incident id) however often it is sent, for backends to drop
// duplicates.
//
// Bounds, applied by PruneOutbox (the exporter calls it every cycle):
// events not sent within OutboxMaxAge, and the oldest beyond OutboxMaxCount
// unsent, are dropped (and counted in the log); sent events are kept
// OutboxKeepSent, then deleted.
const (
	OutboxMaxAge   = 7 * 24 * time.Hour
	OutboxMaxCount = 10_000
	OutboxKeepSent = 24 * time.Hour
)

// Outbox event kinds.
const (
	OutboxKindCrash  = "crash"
	OutboxKindCore   = "core"
	OutboxKindToggle = "toggle"
	OutboxKindProbe  = "probe"
)

// OutboxEvent is one event waiting to be sent. Payload is JSON: a
// report.Report (crash), report.CoreFile (core), OutboxToggle or
// OutboxProbe.
type OutboxEvent struct {
	Seq      int64
	ID       string
	Kind     string
	Time     time.Time // when it happened
	Created  time.Time // when it was recorded
	Payload  []byte
	Attempts int
}

// OutboxToggle is the payload of a toggle change.
type OutboxToggle struct {
	Name    string `json:"name"`
	On      bool   `json:"on"`
	Detail  string `json:"detail,omitempty"`
	Managed bool   `json:"managed,omitempty"`
}

// OutboxProbe is the payload of a probe result.
type OutboxProbe struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Detail  string `json:"detail,omitempty"`
	CrashID string `json:"crash_id,omitempty"`
}

// SetOutbox turns recording into the outbox on (an export endpoint is set)
// or off. Off, nothing is added; what is already there stays until sent or
// pruned.
func (d *DB) SetOutbox(on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.outbox = on
}

// enqueue adds one event; an id already there is left alone. mu held, in a
// transaction.
func (d *DB) enqueue(id, kind string, at, now time.Time, payload any) error {
	if !d.outbox {
		return nil
	}
	js, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("history: outbox %s: %w", id, err)
	}
	_, err = d.conn.ExecContext(bg, `INSERT OR IGNORE INTO outbox(id, kind, time, created_at, payload) VALUES(?, ?, ?, ?, ?)`,
		id, kind, at.UnixNano(), now.UnixNano(), string(js))
	if err != nil {
		return fmt.Errorf("history: outbox %s: %w", id, err)
	}
	return nil
}

// outboxCrash queues a crash just recorded, under its id (the incident id).
func (d *DB) outboxCrash(r *report.Report, now time.Time) error {
	return d.enqueue(r.ID, OutboxKindCrash, crashTime(r, now), now, r)
}

// outboxCore queues a core file once it is complete, under its row's id.
func (d *DB) outboxCore(c report.CoreFile, t time.Time) error {
	if !d.outbox || !c.Complete {
		return nil
	}
	var id int64
	var size int64
	err := d.st.coreActive.QueryRow(c.Path).Scan(&id, &size, new(bool))
	if err != nil {
		return fmt.Errorf("history: outbox core %s: %w", c.Path, err)
	}
	return d.enqueue(fmt.Sprintf("core-%d", id), OutboxKindCore, t, d.opts.Now(), c)
}

// outboxRow queues a toggle change or probe result under its row's id.
func (d *DB) outboxRow(kind string, res sql.Result, t time.Time, payload any) error {
	if !d.outbox {
		return nil
	}
	n, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("history: outbox %s: %w", kind, err)
	}
	return d.enqueue(fmt.Sprintf("%s-%d", kind, n), kind, t, d.opts.Now(), payload)
}

// PendingOutbox returns up to limit unsent events, oldest first, as
// committed (the watcher commits about a second after a crash). It reads
// on the read-only connection, so the exporter never waits for, nor makes
// wait, the detection path's writes.
func (r *Reader) PendingOutbox(ctx context.Context, limit int) ([]OutboxEvent, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT seq, id, kind, time, created_at, payload, attempts FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("history: outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxEvent
	for rows.Next() {
		var e OutboxEvent
		var at, created int64
		var payload string
		if err := rows.Scan(&e.Seq, &e.ID, &e.Kind, &at, &created, &payload, &e.Attempts); err != nil {
			return nil, fmt.Errorf("history: outbox: %w", err)
		}
		e.Time, e.Created, e.Payload = time.Unix(0, at), time.Unix(0, created), []byte(payload)
		out = append(out, e)
	}
	return out, rows.Err()
}

// MarkOutboxSent records that the collector accepted these events.
func (d *DB) MarkOutboxSent(seqs []int64, t time.Time) error {
	return d.outboxUpdate(seqs, `UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE seq = ?`, t.Unix())
}

// MarkOutboxFailed counts a failed attempt for these events.
func (d *DB) MarkOutboxFailed(seqs []int64) error {
	return d.outboxUpdate(seqs, `UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?`)
}

// outboxUpdate runs q for each seq (the last argument), in one transaction.
func (d *DB) outboxUpdate(seqs []int64, q string, args ...any) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return errors.New("history: closed")
	}
	return d.write(func() error {
		for _, s := range seqs {
			if _, err := d.conn.ExecContext(bg, q, append(args[:len(args):len(args)], s)...); err != nil {
				return fmt.Errorf("history: outbox: %w", err)
			}
		}
		return nil
	})
}

// OutboxStats is the outbox's size, for `status` and the menu's About lines.
type OutboxStats struct {
	Pending int
	Oldest  time.Time // of the pending events; zero when none
	Sent    int       // sent and kept for OutboxKeepSent
}

// OutboxStats reads the outbox's size (on a read-only connection).
func (r *Reader) OutboxStats(ctx context.Context) (OutboxStats, error) {
	var st OutboxStats
	var oldest sql.NullInt64
	err := r.db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM outbox WHERE sent_at IS NULL),
		(SELECT min(created_at) FROM outbox WHERE sent_at IS NULL),
		(SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL)`).Scan(&st.Pending, &oldest, &st.Sent)
	if err != nil {
		return st, fmt.Errorf("history: outbox size: %w", err)
	}
	if oldest.Valid {
		st.Oldest = time.Unix(0, oldest.Int64)
	}
	return st, nil
}

// PruneOutbox applies the bounds: unsent events older than OutboxMaxAge or
// beyond the newest OutboxMaxCount, and sent ones older than
// OutboxKeepSent, are deleted. It returns how many unsent events were
// dropped.
func (d *DB) PruneOutbox(now time.Time) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return 0, errors.New("history: closed")
	}
	dropped := 0
	err := d.write(func() error {
		res, err := d.conn.ExecContext(bg, `DELETE FROM outbox WHERE sent_at IS NULL AND (created_at < ? OR seq <= coalesce((SELECT seq FROM outbox WHERE sent_at IS NULL ORDER BY seq DESC LIMIT 1 OFFSET ?), 0))`,
			now.Add(-OutboxMaxAge).UnixNano(), OutboxMaxCount)
		if err != nil {
			return fmt.Errorf("history: prune outbox: %w", err)
		}
		n, _ := res.RowsAffected()
		dropped = int(n)
		if _, err := d.conn.ExecContext(bg, `DELETE FROM outbox WHERE sent_at < ?`, now.Add(-OutboxKeepSent).Unix()); err != nil {
			return fmt.Errorf("history: prune outbox: %w", err)
		}
		return nil
	})
	return dropped, err
}
