package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/tray"
)

// eventually polls cond until it holds, for up to 30 s: a generous outer
// bound, so that a loaded machine (the suite runs beside other builds) slows
// a test down without failing it; a condition that holds returns at once.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// fakeUI, fakeDesk and fakeNotifier stand in for the tray binding, the
// desktop and the notifier where a test drives a tray.Controller from
// here (the room's own tests have theirs).
type fakeUI struct {
	mu    sync.Mutex
	items []tray.Item
}

func (f *fakeUI) Update(items []tray.Item) { f.mu.Lock(); f.items = items; f.mu.Unlock() }
func (f *fakeUI) SetAlert(bool)            {}
func (f *fakeUI) Quit()                    {}

type fakeDesk struct{}

func (fakeDesk) OpenReport(context.Context, string) error              { return nil }
func (fakeDesk) OpenFolder(context.Context, string) error              { return nil }
func (fakeDesk) Reveal(context.Context, string) error                  { return nil }
func (fakeDesk) Confirm(context.Context, string, string) (bool, error) { return false, nil }
func (fakeDesk) Trash(context.Context, []string) error                 { return nil }
func (fakeDesk) Copy(context.Context, string) error                    { return nil }
func (fakeDesk) OpenDocument(context.Context, string) error            { return nil }

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

// findItem is the menu item with id, or one whose ID says it is missing.
func findItem(items []tray.Item, id string) tray.Item {
	for _, it := range items {
		if it.ID == id {
			return it
		}
	}
	return tray.Item{ID: "missing:" + id}
}
