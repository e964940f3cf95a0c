package main

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gen2brain/beeep"

	"github.com/forkwatch/forkwatch/assets"
	"github.com/forkwatch/forkwatch/monitor"
)

// Notifier shows a desktop notification.
type Notifier interface {
	Notify(title, body string) error
}

// beeepNotifier sends notifications with beeep: on macOS through
// terminal-notifier or osascript (beeep quotes the text with Go's %q, and
// our text has no control characters), on Linux over D-Bus. A notification
// that takes longer than the timeout is abandoned, never waited for.
type beeepNotifier struct {
	timeout time.Duration
}

func newBeeepNotifier() *beeepNotifier {
	beeep.AppName = "Forkwatch"
	return &beeepNotifier{timeout: 5 * time.Second}
}

func (b *beeepNotifier) Notify(title, body string) error {
	done := make(chan error, 1)
	go func() {
		done <- beeep.Notify(notificationText(title, 120), notificationText(body, 400), assets.IconPNG)
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("notify: %w", err)
		}
		return nil
	case <-time.After(b.timeout):
		return fmt.Errorf("notify: no answer after %v", b.timeout)
	}
}

// notificationText is report text made safe for a notification: no control
// characters, bounded, and not starting with "-" (terminal-notifier would
// read it as an option).
func notificationText(s string, max int) string {
	s = monitor.Clean(s, max)
	return strings.TrimLeft(s, "-")
}

// Alerter decides what is worth a notification and keeps crash loops from
// flooding the user: the first notification goes at once, then at most one
// summary per window ("37 more Python crashes from Python").
type Alerter struct {
	n      Notifier
	window time.Duration
	errf   func(error)

	mu          sync.Mutex
	last        time.Time
	held        int
	heldFrom    map[string]int
	timer       *time.Timer
	pausedUntil time.Time
	sent        int
}

// NewAlerter returns an Alerter sending through n at most once per window
// after the first; errf receives notification failures.
func NewAlerter(n Notifier, window time.Duration, errf func(error)) *Alerter {
	if errf == nil {
		errf = func(error) {}
	}
	return &Alerter{n: n, window: window, errf: errf, heldFrom: map[string]int{}}
}

// PauseUntil holds notifications back until t (zero resumes).
func (a *Alerter) PauseUntil(t time.Time) {
	a.mu.Lock()
	a.pausedUntil = t
	a.mu.Unlock()
}

// PausedUntil returns the end of the current pause, or zero.
func (a *Alerter) PausedUntil() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	if time.Now().After(a.pausedUntil) {
		return time.Time{}
	}
	return a.pausedUntil
}

// Sent counts the notifications sent, for tests and the benchmark.
func (a *Alerter) Sent() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sent
}

// Event considers one watcher event. Only new Python crashes, and core
// files of 100 MB or more once complete, are announced.
func (a *Alerter) Event(ev monitor.Event) {
	if ev.History {
		return
	}
	title, body, from, ok := alertFor(ev)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	if now.Before(a.pausedUntil) {
		return
	}
	if a.last.IsZero() || now.Sub(a.last) >= a.window {
		a.last = now
		a.sendLocked(title, body)
		return
	}
	a.held++
	a.heldFrom[from]++
	if a.timer == nil {
		a.timer = time.AfterFunc(a.last.Add(a.window).Sub(now), a.flush)
	}
}

func (a *Alerter) flush() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.timer = nil
	if a.held == 0 || time.Now().Before(a.pausedUntil) {
		a.held, a.heldFrom = 0, map[string]int{}
		return
	}
	title, body := summaryMessage(a.held, a.heldFrom)
	a.held, a.heldFrom = 0, map[string]int{}
	a.last = time.Now()
	a.sendLocked(title, body)
}

func (a *Alerter) sendLocked(title, body string) {
	a.sent++
	n, errf := a.n, a.errf
	go func() {
		if err := n.Notify(title, body); err != nil {
			errf(err)
		}
	}()
}
