package tray

import (
	"context"
	"log/slog"
	"time"

	"github.com/forkwatch/forkwatch/monitor/history"
)

// readCounts reads the status line's counts from the history: today's and
// the last seven days' crashes, each crash loop's over the week, and
// today's by runtime.
func readCounts(ctx context.Context, db *history.DB, now time.Time) (*CrashCounts, error) {
	today, week, err := db.Counts(ctx, now)
	if err != nil {
		return nil, err
	}
	groups, err := db.GroupCounts(ctx, now.AddDate(0, 0, -7))
	if err != nil {
		return nil, err
	}
	runtimes, err := db.RuntimeCounts(ctx, now)
	if err != nil {
		return nil, err
	}
	return &CrashCounts{Today: today, Week: week, Groups: groups, Runtimes: runtimes}, nil
}

// countReader reads the status line's counts from the history, which
// outlasts the menu's list of recent crashes (a crash loop of a thousand
// children). One read at a time.
type countReader struct {
	db       *history.DB // nil: the list alone counts
	log      *slog.Logger
	counting bool // a read is under way
}

// refresh reads the counts into st. The history commits within about a
// second, so a read taken a second later catches up.
func (r *countReader) refresh(ctx context.Context, o offLoop, st *MenuState, now func() time.Time) {
	if r.db == nil || r.counting {
		return
	}
	r.counting = true
	o.later(ctx, func() func() {
		time.Sleep(1200 * time.Millisecond)
		counts, err := readCounts(ctx, r.db, now())
		return func() {
			r.counting = false
			if err != nil {
				r.log.Warn("history: counts", "err", err)
				return
			}
			st.Counts = counts
		}
	})
}
