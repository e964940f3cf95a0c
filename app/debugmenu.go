package main

import (
	"context"
	"runtime"
	"strings"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
)

// debugReport is the crash submenu's "Debug in lldb…": on macOS Terminal
// opens with lldb's crashlog on the report (openInTerminal); elsewhere,
// where there is no Terminal.app to open, a notification shows the command.
func (c *Controller) debugReport(ctx context.Context, path string) error {
	plan, err := planDebug(ctx, path, "", appinfo.HistoryDBPath())
	if err != nil {
		return err
	}
	if runtime.GOOS == "darwin" {
		_, err := openInTerminal(ctx, runtime.GOOS, "", plan)
		return err
	}
	if c.notifier != nil {
		var b strings.Builder
		printPlan(&b, plan)
		return c.notifier.Notify("Debug in lldb", notificationText(b.String(), 600))
	}
	return nil
}
