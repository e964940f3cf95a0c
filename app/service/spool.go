package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/forkwatch/forkwatch/monitor/forktrace"
)

// SpoolSweeper clears the fork tracer's records of children that exited
// without a crash. It sweeps once at start, then every interval only while
// a tracer is installed, and once after each Kick (a crash, a change of
// tracing from the menu). With no tracer installed it keeps no timer, so an
// idle Forkwatch is not woken for a spool nobody writes.
type SpoolSweeper struct {
	spool  *forktrace.Spool
	every  time.Duration
	active func() bool
	kick   chan struct{}
	log    *slog.Logger
}

func NewSpoolSweeper(m *forktrace.Manager, every time.Duration, log *slog.Logger) *SpoolSweeper {
	return &SpoolSweeper{spool: forktrace.NewSpool(m.SpoolDir()), every: every, active: m.AnyInstalled, kick: make(chan struct{}, 1), log: log}
}

// Kick asks for a sweep soon, and for the interval to be decided again. It
// never blocks.
func (s *SpoolSweeper) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run sweeps until ctx is done.
func (s *SpoolSweeper) Run(ctx context.Context) {
	for {
		SweepForkSpool(ctx, s.spool, 0, s.log)
		var (
			t    *time.Timer
			tick <-chan time.Time
		)
		if s.active() {
			t = time.NewTimer(s.every)
			tick = t.C
		}
		select {
		case <-ctx.Done():
		case <-tick:
		case <-s.kick:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// SweepForkSpool clears the spool records of traced children that exited
// without a crash: now, then every interval until ctx is done (once when
// every <= 0). The watch command and the app run it with every =
// time.Minute; with no tracer enabled it costs a stat per interval, and
// with an unchanged record file it reads only the slots of live children.
func SweepForkSpool(ctx context.Context, sp *forktrace.Spool, every time.Duration, log *slog.Logger) {
	for {
		res, err := sp.Sweep(time.Now())
		if err != nil {
			log.Warn("fork tracer spool", "err", err)
		} else if res.Exited > 0 {
			log.Debug("fork tracer spool swept", "cleared", res.Exited, "kept", res.Kept)
		}
		if every <= 0 {
			return
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
