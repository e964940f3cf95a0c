package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/forkwatch/forkwatch/monitor/forktrace"
)

// spoolSweeper clears the fork tracer's records of children that exited
// without a crash. It sweeps once at start, then every interval only while
// a tracer is installed, and once after each Kick (a crash, a change of
// tracing from the menu). With no tracer installed it keeps no timer, so an
// idle Forkwatch is not woken for a spool nobody writes.
type spoolSweeper struct {
	spool  *forktrace.Spool
	every  time.Duration
	active func() bool
	kick   chan struct{}
	log    *slog.Logger
}

func newSpoolSweeper(m *forktrace.Manager, every time.Duration, log *slog.Logger) *spoolSweeper {
	return &spoolSweeper{spool: forktrace.NewSpool(m.SpoolDir()), every: every, active: m.AnyInstalled, kick: make(chan struct{}, 1), log: log}
}

// Kick asks for a sweep soon, and for the interval to be decided again. It
// never blocks.
func (s *spoolSweeper) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run sweeps until ctx is done.
func (s *spoolSweeper) Run(ctx context.Context) {
	for {
		sweepForkSpool(ctx, s.spool, 0, s.log)
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
