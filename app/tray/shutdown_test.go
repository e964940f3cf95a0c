package tray_test

import (
	"context"
	"github.com/forkwatch/forkwatch/app/internal/apptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/tray"
	"github.com/forkwatch/forkwatch/app/tray/traytest"
	"github.com/forkwatch/forkwatch/monitor"
)

// TestShutdownOrderOnceBound: steps run in the reverse order they were
// deferred, once however often Run is called, and a step that hangs is
// left behind after the bound while the steps after it still run.
func TestShutdownOrderOnceBound(t *testing.T) {
	var mu sync.Mutex
	var got []string
	step := func(name string) func() {
		return func() { mu.Lock(); got = append(got, name); mu.Unlock() }
	}
	s := &tray.Shutdown{Bound: 300 * time.Millisecond}
	s.Defer("release the lock", step("lock"))
	s.Defer("close the store", step("store"))
	s.Defer("wait for a watcher that never stops", func() { select {} })
	s.Defer("cancel", step("cancel"))
	start := time.Now()
	s.Run()
	s.Run()
	took := time.Since(start)
	if strings.Join(got, ",") != "cancel,store,lock" {
		t.Errorf("steps ran as %v, want cancel,store,lock", got)
	}
	if took < 300*time.Millisecond || took > 2*time.Second {
		t.Errorf("the sequence took %v with a hanging step and a 300ms bound", took)
	}
}

// TestLogoutWhileRenderingDoesNotDeadlock: the system terminates the app
// (logout) while the controller's loop is busy rendering crash after
// crash. On macOS onExit runs on the main thread, which every systray
// setter waits for (traytest.MacBinding), so the loop is stuck in a setter,
// the events channel fills up and the watcher blocks sending to it. The
// shutdown stops the menu's updates, cancels, and only then waits for the
// watcher, which gives up its send on the cancelled context: onExit ends
// at once instead of waiting out its bound (as it does when the wait comes
// before the cancel).
func TestLogoutWhileRenderingDoesNotDeadlock(t *testing.T) {
	c := tray.NewController(tray.ControllerConfig{CoreDir: t.TempDir()})
	b := traytest.NewMacBinding()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watcherDone := make(chan struct{})
	go func() { // the watcher, as app's watchInto hands events on
		defer close(watcherDone)
		for ctx.Err() == nil {
			select {
			case c.Events <- monitor.Event{Kind: monitor.KindError, Err: "tick"}:
			case <-ctx.Done():
			}
		}
	}()
	stop := &tray.Shutdown{Bound: 5 * time.Second}
	stop.Defer("wait for the watcher", func() { <-watcherDone })
	stop.Defer("cancel", cancel)
	stop.Defer("stop the menu's updates", c.Stop)
	var exitTook time.Duration
	go b.Run(c.Clicks, func(ui tray.UI) {
		go func() { c.Run(ctx, ui); ui.Quit() }()
	}, func() { start := time.Now(); stop.Run(); exitTook = time.Since(start) })
	<-b.Ready()
	eventually(t, "the loop rendering", func() bool { return b.Calls() > 20 })
	b.Terminate()
	select {
	case <-b.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("onExit did not return")
	}
	if exitTook > time.Second {
		t.Errorf("onExit took %v: it waited for something that waits for the tray", exitTook)
	}
}

// eventually waits for cond with apptest's generous bound.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	apptest.Eventually(t, what, cond)
}
