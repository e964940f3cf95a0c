package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/forkwatch/forkwatch/app/desktop"
	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/notify"
	"github.com/forkwatch/forkwatch/app/service"
	"github.com/forkwatch/forkwatch/app/tray"
	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/report"
	"github.com/forkwatch/forkwatch/settings"
	"github.com/spf13/cobra"
)

// exitNoDesktop tells `make run` to fall back to `forkwatch watch`.
const exitNoDesktop = 3

// noDesktop explains why the menu-bar app cannot show here, or returns "".
func noDesktop(goos string, getenv func(string) string) string {
	switch goos {
	case "darwin":
		if getenv("SSH_CONNECTION") != "" || getenv("SSH_TTY") != "" {
			return "forkwatch: this is an SSH session, which has no menu bar; run `forkwatch watch` for the terminal mode"
		}
	default:
		if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
			return "forkwatch: no desktop here (DISPLAY and WAYLAND_DISPLAY are unset); run `forkwatch watch` for the terminal mode"
		}
	}
	return ""
}

// appCmd is the root command: with no subcommand, the menu-bar app, which
// takes the watcher's folder flags.
func (c *cli) appCmd() *cobra.Command {
	var wf service.Folders
	var tun service.Tuning
	cmd := &cobra.Command{
		Use:   "forkwatch",
		Short: "explain processes killed after fork() on macOS, and toggle the mitigations",
		Long: `Forkwatch watches macOS crash reports and core files, says which Python process died
after fork() and why, and turns the known mitigations on and off.

With no command it starts the menu-bar app (where there is no desktop, use ` + "`forkwatch watch`" + `).`,
		Example: `  forkwatch inspect ~/Library/Logs/DiagnosticReports/Python-2026-11-26-101010.ips
  forkwatch watch --json
  forkwatch set ulimit-core on
  forkwatch history --since 7d`,
		Version: appinfo.Version(version),
		Args:    rootArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c.code = runApp(c.ctx, &wf, &tun, c.stdout, c.stderr)
			return nil
		},
	}
	cmd.SetVersionTemplate("forkwatch {{.Version}}\n")
	cmd.SetUsageTemplate(cmd.UsageTemplate() + "\n" + usageFooter + "\n")
	addWatchFlags(cmd, &wf, &tun)
	return cmd
}

// runApp starts the menu-bar app.
func runApp(ctx context.Context, wf *service.Folders, tun *service.Tuning, stdout, stderr io.Writer) int {
	return runAppWith(ctx, wf, tun, stderr, tray.Run)
}

// quitBound is the longest the stop sequence waits in all (the watcher's
// last save, the exporter's last request, the history's close).
const quitBound = 5 * time.Second

// runAppWith starts the menu-bar app on runTray (the binding, or a test's
// stand-in). Every resource's stop is deferred on one tray.Shutdown, which
// runs as the tray's exit callback: on macOS nothing after the tray's Run
// runs (binding.go), so the code below it is only for a Run that failed
// to start. SIGTERM, SIGINT and SIGHUP cancel ctx; the controller's loop
// then quits the tray, and the exit callback runs the same sequence.
func runAppWith(ctx context.Context, wf *service.Folders, tun *service.Tuning, stderr io.Writer, runTray tray.RunFunc) int {
	if msg := noDesktop(runtime.GOOS, os.Getenv); msg != "" {
		fmt.Fprintln(stderr, msg)
		return exitNoDesktop
	}
	release, ok := lockInstance("forkwatch", wf, stderr)
	if !ok {
		return exitFailed
	}
	log := appLogger(stderr)
	stop := &tray.Shutdown{Log: log, Bound: quitBound}
	defer stop.Run() // only when the menu bar never came up
	stop.Defer("release the one-instance lock", release)
	ctx, stopSignals := signal.NotifyContext(ctx, syscall.SIGHUP)
	stop.Defer("stop listening for SIGHUP", stopSignals)
	ctx, cancel := context.WithCancel(ctx)
	stop.Defer("cancel", cancel)

	w, st, closeStore, err := service.NewWatcher(ctx, wf, tun, log)
	if err != nil {
		fmt.Fprintln(stderr, "forkwatch:", err)
		return 1
	}
	// Close saves what the watcher marked and had not saved yet (it saves
	// debounced, a second after the last change).
	stop.Defer("close the history", closeStore)
	db, _ := st.(*history.DB)
	env := settings.DefaultEnv()
	fixLoginItem(env, log)
	ctrl, exp, spool := startRooms(ctx, env, wf, tun, st.Recent(), db, log)
	stop.Defer("stop the exporter", exp.Stop)

	go spool.Run(ctx)
	watchDone := watchInto(ctx, w, ctrl.Events, func(ev monitor.Event) {
		service.RecordEvent(db, ev, log)
		spool.Kick()
		exp.Kick()
	}, log)
	stop.Defer("wait for the watcher's last save", func() { <-watchDone })
	// The risk watcher records its warnings in the history: it is waited
	// for before the history closes (no write after the store is closed).
	stop.Defer("stop the risk watcher", startRiskWatcher(ctx, db, log, func(ev monitor.Event) {
		select {
		case ctrl.Events <- ev:
		case <-ctx.Done():
		}
	}))
	stop.Defer("cancel", cancel)
	go watchToggles(ctx, env, ctrl, log)
	// First of all, before anything is waited for: no more menu updates.
	stop.Defer("stop the menu's updates", ctrl.Stop)

	err = runTray(ctrl.Clicks, func(ui tray.UI) {
		go func() {
			ctrl.Run(ctx, ui)
			ui.Quit()
		}()
	}, stop.Run)
	if err != nil {
		fmt.Fprintln(stderr, "forkwatch:", err)
		return 1
	}
	return 0
}

// startRooms builds the notifier, the managed settings with the exporter,
// the spool sweeper and the menu's controller.
func startRooms(ctx context.Context, env settings.Env, wf *service.Folders, tun *service.Tuning, recent []report.Report, db *history.DB, log *slog.Logger) (*tray.Controller, *service.ExportRunner, *service.SpoolSweeper) {
	notifier := notify.NewApp(ctx, log, appinfo.Version(version))
	var ctrl *tray.Controller
	pol, exp := service.StartManaged(ctx, env, db, tun.ExportMaxBackoff, appinfo.Version(version), log, func() {
		if ctrl != nil {
			ctrl.RefreshToggles(ctx)
		}
	}, nil) // nil: enforced toggles are said in the app's log
	spool := service.NewSpoolSweeper(service.TraceManager(), time.Minute, log)
	ctrl = tray.NewController(tray.ControllerConfig{
		Env: env, Desktop: desktop.New(runtime.GOOS), Notifier: notifier, NotifyPath: notifier.Path,
		Alerter: notify.NewAlerter(notifier, tun.SummaryEvery, func(err error) { log.Warn("notification", "err", err) }),
		Log:     log, CoreDir: wf.CoresDir, CoreName: wf.CoreName, SupportDir: appinfo.SupportDir(), Recent: recent, ReportDirs: wf.ReportDirs,
		FileManager: desktop.FileManagerName(runtime.GOOS), MenuDump: os.Getenv("FORKWATCH_MENU_DUMP"),
		History: db, Tracer: service.TraceManager(), Policy: pol.Get, OnTraceChange: spool.Kick,
		ChooseFolder: desktop.ChooserFor(runtime.GOOS), CheckProject: checkVerdict,
		ExportLine: func(ctx context.Context) string {
			if db == nil {
				return ""
			}
			return service.ExportLine(ctx, pol.Get().ExportEndpoint, db.Reader)
		},
	})
	notifier.OnAction(ctrl.NotificationAction)
	return ctrl, exp, spool
}

// watchToggles reads the toggles again when a file they read changes:
// the shell start-up files and LaunchAgents are watched as files, since
// an in-place edit (an append to ~/.zshrc) does not wake a watch on their
// folder on macOS (kqueue's NOTE_WRITE on a folder fires for entries
// added, removed or renamed; see docs/macos.md), and folders for files
// that appear.
func watchToggles(ctx context.Context, env settings.Env, ctrl *tray.Controller, log *slog.Logger) {
	if err := settings.Watch(ctx, env, 300*time.Millisecond, func() { ctrl.RefreshToggles(ctx) }); err != nil && ctx.Err() == nil {
		log.Warn("toggle files: not watched; the menu's toggles are read again only after a change from the menu", "err", err)
	}
}

// fixLoginItem points the login item at this executable when it moved.
func fixLoginItem(env settings.Env, log *slog.Logger) {
	if fixed, err := settings.FixLoginItem(env); err != nil {
		log.Warn("login item", "err", err)
	} else if fixed {
		log.Info("login item now points at " + env.Exe)
	}
}

// watchInto runs the watcher until ctx is done: each event is recorded
// (record) and handed to the menu's loop (events). The channel it returns
// is closed when the watcher has stopped.
func watchInto(ctx context.Context, w *monitor.Watcher, events chan<- monitor.Event, record func(monitor.Event), log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx, func(ev monitor.Event) {
			record(ev)
			select {
			case events <- ev:
			case <-ctx.Done():
			}
		}); err != nil {
			log.Error("watcher stopped", "err", err)
		}
	}()
	return done
}

// appLogger logs to stderr and to a file in the log folder (kept under
// 5 MB by starting afresh when it is larger; opened without following
// links, appinfo.OpenLog).
func appLogger(stderr io.Writer) *slog.Logger {
	out := stderr
	if f, err := appinfo.OpenLog(5 << 20); err == nil {
		out = io.MultiWriter(stderr, f)
	} else {
		fmt.Fprintln(stderr, "forkwatch: log file:", err)
	}
	l := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(l)
	return l
}
