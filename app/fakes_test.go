package main

import (
	"context"
	"github.com/forkwatch/forkwatch/app/internal/apptest"
	"sync"
	"testing"

	"github.com/forkwatch/forkwatch/app/tray"
)

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

// findItem is the menu item with id, or one whose ID says it is missing.
func findItem(items []tray.Item, id string) tray.Item {
	for _, it := range items {
		if it.ID == id {
			return it
		}
	}
	return tray.Item{ID: "missing:" + id}
}

// eventually waits for cond with apptest's generous bound.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	apptest.Eventually(t, what, cond)
}

// fakeNotifier records the notifications asked for (apptest.Notifier).
type fakeNotifier = apptest.Notifier
