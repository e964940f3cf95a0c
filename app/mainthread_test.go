//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// lockedThrough runs f on a new goroutine locked to its own thread, as
// systray's init locks the main goroutine, and says whether the goroutine
// still held the lock when f returned. What tells it: a goroutine that
// exits while locked ends its thread ("If the calling goroutine exits
// without unlocking the thread, the thread will be terminated",
// runtime.LockOSThread), and an unlocked one leaves it to the runtime,
// which keeps idle threads. The main thread is never ended (the runtime
// wedges it instead), so a goroutine that finds itself there tries again.
func lockedThrough(t *testing.T, f func()) bool {
	t.Helper()
	for try := 0; try < 50; try++ {
		tids := make(chan int)
		go func() {
			runtime.LockOSThread()
			tid := syscall.Gettid()
			if tid == os.Getpid() {
				runtime.UnlockOSThread()
				tids <- 0
				return
			}
			f()
			tids <- tid
		}()
		tid := <-tids
		if tid == 0 {
			continue
		}
		task := fmt.Sprintf("/proc/self/task/%d", tid)
		// A locked thread ends as its goroutine does; an idle one stays.
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(task); os.IsNotExist(err) {
				return true
			}
		}
		return false
	}
	t.Fatal("every goroutine started on the main thread")
	return false
}

// TestCommandsReleaseTheMainThread: the commands release the main thread
// systray's init locks (mainthread.go), so that `watch`'s loop runs on
// whichever thread its event woke; the app keeps it for the tray, and
// `notify` for its native check.
func TestCommandsReleaseTheMainThread(t *testing.T) {
	root := newRootCmd(&cli{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}})
	watch, _, err := root.Find([]string{"watch"})
	if err != nil || watch == root {
		t.Fatalf("no watch command: %v", err)
	}
	notify, _, err := root.Find([]string{"notify"})
	if err != nil || notify == root {
		t.Fatalf("no notify command: %v", err)
	}
	command := func(args ...string) func(t *testing.T) {
		return func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(args, &out, &errb); code != 0 {
				t.Errorf("forkwatch %v: exit %d, stderr %q", args, code, errb.String())
			}
		}
	}
	for _, tc := range []struct {
		name   string
		f      func(t *testing.T)
		locked bool
	}{
		// The observation itself: a goroutine that stays locked ends its
		// thread, one that unlocks does not.
		{"control locked", func(*testing.T) {}, true},
		{"control unlocked", func(*testing.T) { runtime.UnlockOSThread() }, false},
		{"version", command("version"), false},
		{"inspect", command("inspect", "--json", sample("python37-objc-fork-fontbakery-2982.crash")), false},
		// The hook as cobra calls it before a command's RunE: the app's
		// would start the tray, which keeps the main thread.
		{"app hook", func(*testing.T) { releaseMainThread(root, root) }, true},
		{"watch hook", func(*testing.T) { releaseMainThread(root, watch) }, false},
		{"notify hook", func(*testing.T) { releaseMainThread(root, notify) }, true},
	} {
		// One at a time: a thread one case left idle may be the next
		// case's, which a locked case then ends.
		t.Run(tc.name, func(t *testing.T) {
			if got := lockedThrough(t, func() { tc.f(t) }); got != tc.locked {
				t.Errorf("locked after it: %v, want %v", got, tc.locked)
			}
		})
	}
}
