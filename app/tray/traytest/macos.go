// Package traytest holds a stand-in for the tray binding that ends the way
// the menu bar ends on macOS, for the tests of the tray and of the app
// command. It is imported by tests only.
package traytest

import (
	"sync"

	"github.com/forkwatch/forkwatch/app/tray"
)

// MacBinding stands in for getlantern/systray v1.2.2 on macOS:
//
//   - Every UI call is performed on the main thread and waits for it:
//     systray's setters go through runInMainThread,
//     performSelectorOnMainThread:withObject:waitUntilDone:YES
//     (systray_darwin.m:231-236).
//   - Quit performs -[AppDelegate quit] on the main thread the same way,
//     which calls [NSApp terminate:] (systray_darwin.m:206-209); AppKit
//     calls -applicationWillTerminate:, which calls onExit
//     (systray_darwin.m:77-80, systray_nonwindows.go:93-96), and "the app
//     will terminate after this method returns" (Apple,
//     NSApplicationDelegate applicationWillTerminate:). So the goroutine
//     that called Quit never gets control back, Run never returns, and
//     once onExit has returned nothing else runs: Exited is closed, and
//     the test calls OnExited to take what is on disk at that instant.
//   - Terminate is a quit the system asks for (logout, an Apple Event
//     "quit", Homebrew's `uninstall quit:`): the same -applicationWillTerminate:
//     path, with the controller's loop still running.
type MacBinding struct {
	// OnExited runs right after onExit returns, on the main thread, as
	// the process ends: what it sees is all a restart would find.
	OnExited func()

	main      chan func()
	exited    chan struct{}
	ready     chan struct{}
	terminate sync.Once

	mu     sync.Mutex
	calls  int // UI calls performed on the main thread
	ui     *macUI
	clicks chan<- string
}

// NewMacBinding returns a binding whose Run may be passed as a tray.RunFunc.
func NewMacBinding() *MacBinding {
	return &MacBinding{main: make(chan func()), exited: make(chan struct{}), ready: make(chan struct{})}
}

// Run serves the main thread until the app terminates; it never returns
// (a test runs it on a goroutine it leaves behind, as the process ends).
func (b *MacBinding) Run(clicks chan<- string, onReady func(tray.UI), onExit func()) error {
	// systray runs onReady on a goroutine of its own (systray.go, Register).
	ui := &macUI{b: b}
	b.mu.Lock()
	b.ui, b.clicks = ui, clicks
	b.mu.Unlock()
	go func() {
		onReady(ui)
		close(b.ready)
	}()
	for f := range b.main {
		if f != nil {
			f()
			continue
		}
		onExit()
		if b.OnExited != nil {
			b.OnExited()
		}
		close(b.exited)
		select {} // the process has ended: the main thread serves nothing more
	}
	return nil
}

// Ready is closed once onReady has returned.
func (b *MacBinding) Ready() <-chan struct{} { return b.ready }

// Exited is closed when onExit has returned and the process has ended.
func (b *MacBinding) Exited() <-chan struct{} { return b.exited }

// Terminate asks the app to quit as the system does at logout; unlike
// Quit it does not wait.
func (b *MacBinding) Terminate() {
	b.terminate.Do(func() { go func() { b.main <- nil }() })
}

// Click clicks the menu item id, as systray's ClickedCh does.
func (b *MacBinding) Click(id string) {
	b.mu.Lock()
	clicks := b.clicks
	b.mu.Unlock()
	clicks <- id
}

// Calls is how many UI calls the main thread has performed.
func (b *MacBinding) Calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

// perform runs f on the main thread and waits for it; after the process
// ended it waits forever, like a setter called while macOS tears down.
func (b *MacBinding) perform(f func()) {
	done := make(chan struct{})
	b.main <- func() {
		b.mu.Lock()
		b.calls++
		b.mu.Unlock()
		f()
		close(done)
	}
	<-done
}

// macUI is the UI the binding hands to onReady.
type macUI struct {
	b     *MacBinding
	mu    sync.Mutex
	items []tray.Item
}

func (u *macUI) Update(items []tray.Item) {
	u.b.perform(func() {
		u.mu.Lock()
		u.items = items
		u.mu.Unlock()
	})
}

func (u *macUI) SetAlert(bool) { u.b.perform(func() {}) }

// Quit never returns: the selector it waits for ends the process.
func (u *macUI) Quit() {
	u.b.terminate.Do(func() { u.b.main <- nil })
	select {}
}

// Items returns what the last Update showed.
func (b *MacBinding) Items() []tray.Item {
	b.mu.Lock()
	u := b.ui
	b.mu.Unlock()
	if u == nil {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]tray.Item(nil), u.items...)
}
