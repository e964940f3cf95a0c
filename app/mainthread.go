package main

import (
	"runtime"

	"github.com/spf13/cobra"
)

// The menu-bar app's tray must run on the process's main thread (Cocoa's
// run loop on macOS, GTK's on Linux), so getlantern/systray locks the main
// goroutine to it in an init function (systray.go, v1.2.2: "func init() {
// runtime.LockOSThread() }"). That lock holds for every command of the
// binary, not only the app, and a locked goroutine runs on its thread alone
// ("The calling goroutine will always execute in that thread, and no other
// goroutine will execute in it", runtime.LockOSThread). `watch` runs its
// loop on the main goroutine: each event that woke it had to wake the main
// thread as well (the runtime hands the locked goroutine to its thread,
// startlockedm), rather than run it on the thread that received the event.
// In 180 drops of a report the loop ran on another thread than the one the
// event arrived on every time; releasing the lock took about a tenth off
// the time from a report's rename to its JSON line (docs/figures.md).
//
// So the commands release the main thread before they run, but two: the
// app itself, and `notify`, whose native check drives the UserNotifications
// framework on macOS as it did before (it is the menu-bar app's child check,
// which we cannot run here; nothing in it waits for speed). Once released,
// the main goroutine may move to another thread, and a later lock would
// hold that one, not the main one. Packages that need the main thread for
// their set-up (the macOS frameworks' first load) do it in init, which runs
// before any command.

// mainThreadAnnotation marks a command that keeps the main thread locked
// (mainThreadKeep); every other command but the root releases it.
const (
	mainThreadAnnotation = "forkwatch/main-thread"
	mainThreadKeep       = "keep"
)

// releaseMainThread undoes systray's lock before cmd runs, unless cmd is
// root (the app) or says mainThreadKeep. It is a no-op on a goroutine that
// holds no lock (the tests' run).
func releaseMainThread(root, cmd *cobra.Command) {
	if cmd != root && cmd.Annotations[mainThreadAnnotation] != mainThreadKeep {
		runtime.UnlockOSThread()
	}
}
