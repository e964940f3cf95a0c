package notify

import (
	"sync"
	"time"

	"github.com/forkwatch/forkwatch/monitor"
)

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
	heldOther   bool // a held alert was no Python crash: the summary does not name Python
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

// Event considers one watcher event. New crashes that report.Notable picks,
// and core files of 100 MB or more once complete, are announced.
func (a *Alerter) Event(ev monitor.Event) {
	if ev.History {
		return
	}
	title, body, from, ok := alertFor(ev)
	if !ok {
		return
	}
	n := Notification{Title: title, Body: body}
	if ev.Kind == monitor.KindCrash && ev.Report != nil {
		n.ReportPath, n.Fix = ev.Report.Path, ev.Report.Fix
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	if now.Before(a.pausedUntil) {
		return
	}
	if a.last.IsZero() || now.Sub(a.last) >= a.window {
		a.last = now
		a.sendLocked(n)
		return
	}
	a.held++
	a.heldFrom[from]++
	if ev.Kind != monitor.KindCrash || ev.Report == nil || !isPythonCrash(ev.Report) {
		a.heldOther = true
	}
	if a.timer == nil {
		a.timer = time.AfterFunc(a.last.Add(a.window).Sub(now), a.flush)
	}
}

func (a *Alerter) flush() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.timer = nil
	if a.held == 0 || time.Now().Before(a.pausedUntil) {
		a.held, a.heldFrom, a.heldOther = 0, map[string]int{}, false
		return
	}
	title, body := summaryMessage(a.held, a.heldFrom, !a.heldOther)
	a.held, a.heldFrom, a.heldOther = 0, map[string]int{}, false
	a.last = time.Now()
	a.sendLocked(Notification{Title: title, Body: body})
}

// sendLocked posts n off the caller's goroutine, with its buttons when the
// notifier has them.
func (a *Alerter) sendLocked(n Notification) {
	a.sent++
	notifier, errf := a.n, a.errf
	go func() {
		var err error
		if an, ok := notifier.(interface{ Post(Notification) error }); ok {
			err = an.Post(n)
		} else {
			err = notifier.Notify(n.Title, n.Body)
		}
		if err != nil {
			errf(err)
		}
	}()
}
