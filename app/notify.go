package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/forkwatch/forkwatch/app/desktop"
	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/monitor/report"

	"github.com/gen2brain/beeep"

	"github.com/forkwatch/forkwatch/assets"
	"github.com/forkwatch/forkwatch/monitor"
)

// Notifier shows a desktop notification.
type Notifier interface {
	Notify(title, body string) error
}

// Notification is one notification with what its actions act on: Open
// Report needs ReportPath, Copy Fix needs Fix; an empty field leaves its
// button out.
type Notification struct {
	Title, Body string
	ReportPath  string
	Fix         string
}

// The actions a notification offers, as passed to an ActionHandler.
// ActionDefault is a click on the notification itself, which opens the
// report like ActionOpen.
const (
	ActionOpen    = "open"
	ActionCopyFix = "copy-fix"
	ActionPause   = "pause-1h"
	ActionDefault = "default"
)

// ActionHandler receives the action a user chose on a notification. It may
// be called on any goroutine (on macOS from a thread of the system's
// notification queue), so it must only hand the work on, never block.
type ActionHandler func(action string, n Notification)

// ActionNotifier posts notifications with buttons (Open Report, Copy Fix,
// Pause for 1 Hour) and reports the chosen one to the handler set with
// OnAction. Notify(title, body) still works, for messages without actions.
type ActionNotifier interface {
	Notifier
	Post(n Notification) error
	OnAction(h ActionHandler)
	// Path names the way notifications are delivered, for the About item:
	// "native", "beeep", "dbus", with the reason for a fallback.
	Path() string
}

// newAppNotifier is the notifier of the menu-bar app: on macOS the native
// one (UNUserNotificationCenter, after the per-version child check; beeep
// until then and as fallback), on Linux D-Bus with actions (beeep as
// fallback). Its Path goes in the About item; its actions go to the handler
// set with OnAction. It stops when ctx is done.
func newAppNotifier(ctx context.Context, log *slog.Logger) ActionNotifier {
	return platformNotifier(ctx, appNotifierConfig(log))
}

// appNotifierConfig is the real configuration: this executable, this
// version, the support folder, the child check with a timeout long enough
// for a person to answer the permission prompt.
func appNotifierConfig(log *slog.Logger) nativeConfig {
	if log == nil {
		log = slog.Default()
	}
	exe, err := os.Executable()
	if err != nil {
		exe = ""
	}
	return nativeConfig{
		Exe: exe, Version: appinfo.Version(version), SupportDir: appinfo.SupportDir(), Log: log,
		Backend:  nativeBackendFunc(),
		Fallback: newBeeepNotifier(),
		// The child waits up to 30 x Wait (5 min) for an answer to the
		// permission prompt; a child still running a minute after that hangs.
		Wait:  10 * time.Second,
		Prove: func(ctx context.Context) error { return proveInChild(ctx, exe, 6*time.Minute) },
	}
}

// actionsFor lists the buttons a notification gets, as (id, label) pairs.
func actionsFor(n Notification) [][2]string {
	var out [][2]string
	if n.ReportPath != "" {
		out = append(out, [2]string{ActionOpen, "Open Report"})
	}
	if n.Fix != "" {
		out = append(out, [2]string{ActionCopyFix, "Copy Fix"})
	}
	return append(out, [2]string{ActionPause, "Pause for 1 Hour"})
}

// runNotificationAction does what a notification's button asks: open the
// report (also for a click on the notification), copy the fix, or pause
// notifications for an hour. The controller calls it off its loop; alerter
// may be nil (no pausing then).
func runNotificationAction(ctx context.Context, desk desktop.Desktop, alerter *Alerter, now time.Time, action string, n Notification) error {
	switch action {
	case ActionOpen, ActionDefault:
		if n.ReportPath == "" {
			return nil // a summary: nothing to open
		}
		if err := desk.OpenReport(ctx, n.ReportPath); err != nil {
			return fmt.Errorf("open report %s: %w", n.ReportPath, err)
		}
	case ActionCopyFix:
		if n.Fix == "" {
			return nil
		}
		if err := desk.Copy(ctx, n.Fix); err != nil {
			return fmt.Errorf("copy fix: %w", err)
		}
	case ActionPause:
		if alerter != nil {
			alerter.PauseUntil(now.Add(time.Hour))
		}
	default:
		return fmt.Errorf("unknown notification action %q", action)
	}
	return nil
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

// Post sends n without buttons: beeep has none.
func (b *beeepNotifier) Post(n Notification) error { return b.Notify(n.Title, n.Body) }

// OnAction does nothing: beeep reports no clicks.
func (b *beeepNotifier) OnAction(ActionHandler) {}

// Path is "beeep".
func (b *beeepNotifier) Path() string { return "beeep" }

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
	s = report.Clean(s, max)
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
