// Package notify is the notification room of the forkwatch command: what is
// worth a notification and its text (texts.go: one crash, a core file, the
// summary of a crash loop), the Alerter that keeps a crash loop from
// flooding the user and pauses on request, and the ways a notification is
// delivered: natively on macOS (UNUserNotificationCenter through purego,
// proven in a child first: native.go, native_darwin.go), over D-Bus with
// buttons on Linux desktops (dbus.go), and beeep as the fallback
// (beeep.go). It knows nothing of the menu or the commands; what a button
// does is asked of an ActionTarget (the desktop) by RunAction.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/monitor/report"
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

// NewApp is the notifier of the menu-bar app: on macOS the native
// one (UNUserNotificationCenter, after the per-version child check; beeep
// until then and as fallback), on Linux D-Bus with actions (beeep as
// fallback). Its Path goes in the About item; its actions go to the handler
// set with OnAction. version is this Forkwatch's (the native path is
// proven once per version). It stops when ctx is done.
func NewApp(ctx context.Context, log *slog.Logger, version string) ActionNotifier {
	return platformNotifier(ctx, AppConfig(log, version))
}

// AppConfig is the real configuration: this executable, this
// version, the support folder, the child check with a timeout long enough
// for a person to answer the permission prompt.
func AppConfig(log *slog.Logger, version string) NativeConfig {
	if log == nil {
		log = slog.Default()
	}
	exe, err := os.Executable()
	if err != nil {
		exe = ""
	}
	return NativeConfig{
		Exe: exe, Version: version, SupportDir: appinfo.SupportDir(), Log: log,
		Backend:  nativeBackendFunc(),
		Fallback: newBeeepNotifier(),
		// The child waits up to 30 x Wait (5 min) for an answer to the
		// permission prompt; a child still running a minute after that hangs.
		Wait:  10 * time.Second,
		Prove: func(ctx context.Context) error { return proveInChild(ctx, exe, 6*time.Minute) },
	}
}

// ActionTarget is what a notification's buttons act on: the desktop
// (desktop.Desktop, guarded), which opens the report and copies the fix.
type ActionTarget interface {
	OpenReport(ctx context.Context, path string) error
	Copy(ctx context.Context, text string) error
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

// RunAction does what a notification's button asks: open the
// report (also for a click on the notification), copy the fix, or pause
// notifications for an hour. The controller calls it off its loop; alerter
// may be nil (no pausing then).
func RunAction(ctx context.Context, desk ActionTarget, alerter *Alerter, now time.Time, action string, n Notification) error {
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

// Text is report text made safe for a notification: no control
// characters, bounded, and not starting with "-" (terminal-notifier would
// read it as an option).
func Text(s string, max int) string {
	s = report.Clean(s, max)
	return strings.TrimLeft(s, "-")
}
