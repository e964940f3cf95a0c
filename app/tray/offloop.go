package tray

import (
	"context"
	"log/slog"

	"github.com/forkwatch/forkwatch/app/notify"
)

// offLoop runs the controller's slow work (password prompts, dialogs,
// pages, reading the system) in goroutines and hands what should change
// in the menu back to the loop as a func on results; a failure becomes a
// notification.
type offLoop struct {
	results  chan func()
	log      *slog.Logger
	notifier notify.Notifier // may be nil
}

// later runs slow work off the loop and applies its result on the loop.
func (o offLoop) later(ctx context.Context, work func() func()) {
	go func() {
		apply := work()
		if apply == nil {
			return
		}
		select {
		case o.results <- apply:
		case <-ctx.Done():
		}
	}()
}

// do runs work off the loop; a failure is notified under failTitle.
func (o offLoop) do(ctx context.Context, failTitle string, work func() error) {
	o.later(ctx, func() func() {
		if err := work(); err != nil {
			o.fail(failTitle, err)
		}
		return nil
	})
}

// fail logs err and notifies the user under title.
func (o offLoop) fail(title string, err error) {
	o.log.Warn(title, "err", err)
	if o.notifier == nil {
		return
	}
	go o.notifier.Notify(title, notify.Text(err.Error(), 300))
}
