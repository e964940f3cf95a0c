package tray

import (
	"context"
	"runtime"
	"strconv"
	"strings"

	"github.com/forkwatch/forkwatch/app/desktop"
	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/lldb"
	"github.com/forkwatch/forkwatch/app/notify"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// crashActions does what a crash's submenu asks, off the loop: open the
// report, debug it, copy the fix, open the project folder. A failure is
// notified through fail.
type crashActions struct {
	desk     desktop.Desktop // guarded: opens only what the item says
	notifier notify.Notifier // may be nil
	fail     func(title string, err error)
}

// run does action ("open", "debug", "copy", "project") for the crash r.
func (a crashActions) run(ctx context.Context, r report.Report, action string) {
	switch action {
	case "open":
		if err := a.desk.OpenReport(ctx, r.Path); err != nil {
			a.fail("Could not open the report", err)
		}
	case "debug":
		if err := a.debug(ctx, r.Path); err != nil {
			a.fail("Could not open the debugger", err)
		}
	case "copy":
		fix := notify.FixOrAdvice(r)
		if err := a.desk.Copy(ctx, fix); err != nil && a.notifier != nil {
			// No clipboard: show the fix instead.
			a.notifier.Notify("Fix for "+r.Process, fix)
		}
	case "project":
		if dir := notify.ProjectOf(r); dir != "" {
			if err := a.desk.OpenFolder(ctx, dir); err != nil {
				a.fail("Could not open the project folder", err)
			}
		}
	}
}

// debug is "Debug in lldb…": on macOS Terminal opens with lldb's crashlog
// on the report (lldb.OpenInTerminal); elsewhere, where there is no
// Terminal.app to open, a notification shows the command.
func (a crashActions) debug(ctx context.Context, path string) error {
	plan, err := lldb.PlanFor(ctx, path, "", appinfo.HistoryDBPath())
	if err != nil {
		return err
	}
	if runtime.GOOS == "darwin" {
		_, err := lldb.OpenInTerminal(ctx, runtime.GOOS, "", plan)
		return err
	}
	if a.notifier != nil {
		var b strings.Builder
		lldb.Print(&b, plan)
		return a.notifier.Notify("Debug in lldb", notify.Text(b.String(), 600))
	}
	return nil
}

// crashAction handles crash.N.open, crash.N.debug, crash.N.copy (Copy
// Fix) and crash.N.project for the Nth crash listed.
func (c *Controller) crashAction(ctx context.Context, id string) {
	parts := strings.Split(id, ".")
	if len(parts) != 3 {
		return
	}
	n, err := strconv.Atoi(parts[1])
	crashes := recentCrashes(c.state.Crashes)
	if err != nil || n < 0 || n >= len(crashes) {
		return
	}
	r, act := crashes[n], crashActions{desk: c.cfg.Desktop, notifier: c.cfg.Notifier, fail: c.fail}
	c.later(ctx, func() func() { act.run(ctx, r, parts[2]); return nil })
}
