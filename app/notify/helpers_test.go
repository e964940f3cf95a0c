package notify

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// fakeNotifier records what it was asked to show.
type fakeNotifier struct {
	mu   sync.Mutex
	sent []string
}

func (n *fakeNotifier) Notify(title, body string) error {
	n.mu.Lock()
	n.sent = append(n.sent, title+" | "+body)
	n.mu.Unlock()
	return nil
}

func (n *fakeNotifier) all() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.sent, "\n")
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

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
