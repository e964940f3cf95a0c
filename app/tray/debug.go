package tray

import (
	"context"
	"runtime"
	"strings"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/lldb"
	"github.com/forkwatch/forkwatch/app/notify"
)

// debugReport is the crash submenu's "Debug in lldb…": on macOS Terminal
// opens with lldb's crashlog on the report (OpenInTerminal); elsewhere,
// where there is no Terminal.app to open, a notification shows the command.
func (c *Controller) debugReport(ctx context.Context, path string) error {
	plan, err := lldb.PlanFor(ctx, path, "", appinfo.HistoryDBPath())
	if err != nil {
		return err
	}
	if runtime.GOOS == "darwin" {
		_, err := lldb.OpenInTerminal(ctx, runtime.GOOS, "", plan)
		return err
	}
	if c.notifier != nil {
		var b strings.Builder
		lldb.Print(&b, plan)
		return c.notifier.Notify("Debug in lldb", notify.Text(b.String(), 600))
	}
	return nil
}
