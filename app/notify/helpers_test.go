package notify

import (
	"context"
	"fmt"
	"github.com/forkwatch/forkwatch/app/internal/apptest"
	"strings"
	"sync"
	"testing"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// fakeDesk records what a notification's buttons asked of the desktop.
type fakeDesk struct {
	mu    sync.Mutex
	calls []string
}

func (d *fakeDesk) rec(s string)                                 { d.mu.Lock(); d.calls = append(d.calls, s); d.mu.Unlock() }
func (d *fakeDesk) OpenReport(_ context.Context, p string) error { d.rec("open " + p); return nil }
func (d *fakeDesk) Copy(_ context.Context, s string) error       { d.rec("copy " + s); return nil }
func (d *fakeDesk) log() string                                  { d.mu.Lock(); defer d.mu.Unlock(); return strings.Join(d.calls, "\n") }

// crash is a crash report of a Python child at time t.
func crash(t string, pid int, cause string, python bool) report.Report {
	return report.Report{Process: "Python", PID: pid, Time: t, Cause: cause, Python: python, ForkChild: cause != "crash", Advice: "do X", Path: fmt.Sprintf("/r/%d.ips", pid)}
}

// eventually waits for cond with apptest's generous bound.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	apptest.Eventually(t, what, cond)
}

// fakeNotifier records the notifications asked for (apptest.Notifier).
type fakeNotifier = apptest.Notifier
