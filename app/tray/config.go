package tray

import (
	"context"
	"log/slog"

	"github.com/forkwatch/forkwatch/app/desktop"
	"github.com/forkwatch/forkwatch/app/notify"
	"github.com/forkwatch/forkwatch/monitor/forktrace"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/report"
	"github.com/forkwatch/forkwatch/settings"
	"github.com/forkwatch/forkwatch/settings/managed"
)

// ControllerConfig holds what NewController needs.
type ControllerConfig struct {
	Env        settings.Env
	Desktop    desktop.Desktop
	Notifier   notify.Notifier
	Alerter    *notify.Alerter
	Log        *slog.Logger
	CoreDir    string
	CoreName   string
	SupportDir string
	// ReportDirs are the watched report folders: Open Report opens only a
	// regular file inside one of them.
	ReportDirs []string
	Recent     []report.Report
	// FileManager is "Finder" on macOS.
	FileManager string
	// MenuDump, when set, receives the menu as JSON after every change (for
	// the end-to-end test, which cannot read pixels).
	MenuDump string
	// History is the crash history this process records (nil when another
	// Forkwatch holds it, or in tests): toggle changes and removed core
	// files go there, the status line counts from it, and Crash History…
	// shows it.
	History *history.DB
	// NotifyPath says how notifications are delivered now (it can change
	// after start-up, when the native path has proved itself).
	NotifyPath func() string
	// Tracer manages fork tracing for the Fork Tracing submenu (nil: the
	// submenu lists nothing).
	Tracer *forktrace.Manager
	// Policy returns the managed settings now (nil: nothing is managed);
	// ExportLine the export line of About (nil: none). See app/internal/policy.
	Policy     func() managed.Settings
	ExportLine func(context.Context) string
	// OnTraceChange is told when fork tracing was turned on or off from
	// the menu (the spool sweeper decides its interval again); may be nil.
	OnTraceChange func()
	// ChooseFolder shows a folder chooser (desktop.ChooserFor; nil: none,
	// and "Check a Project…" is hidden); CheckProject checks the folder
	// chosen and says the verdict as a notification's title and body
	// (`forkwatch check`'s rules; wired by the app).
	ChooseFolder func(ctx context.Context, prompt string) (dir string, ok bool, err error)
	CheckProject func(dir string) (title, body string, err error)
}
