package tray

import (
	"log/slog"
	"sync"
	"time"
)

// RunFunc is the binding's Run (binding.go): it shows the menu bar on the
// calling (main) goroutine, hands the UI to onReady, and ends the process
// right after onExit returns, so it never returns once the menu bar is up.
// The app command takes one so that its tests can pass a stand-in that
// behaves the same way.
type RunFunc func(clicks chan<- string, onReady func(UI), onExit func()) error

// Shutdown is the menu-bar app's whole stop sequence. The app runs it from
// the tray's exit callback (onExit), the last code that runs on macOS:
// systray's Quit ends in [NSApp terminate:], which calls onExit from
// -applicationWillTerminate: on the main thread and ends the process when
// it returns (see binding.go). Quit from the menu, SIGTERM and SIGINT
// (which cancel the app's context, so the controller's loop quits the
// tray), and a quit the system asks for (logout, `osascript -e 'quit app
// "Forkwatch"'`, Homebrew's `uninstall quit:`) all reach it that way.
//
// Steps run in the reverse order they were deferred, as deferred calls do,
// so each is deferred where its resource is acquired. The sequence runs
// once, and waits at most Bound in all: onExit runs on the main thread,
// which every systray setter waits for (performSelectorOnMainThread:
// waitUntilDone:YES), so a step that hangs on something touching the tray
// would otherwise hold Quit forever. A step still running when the time is
// spent is left behind (logged) and the next one runs.
type Shutdown struct {
	Log   *slog.Logger
	Bound time.Duration // the whole sequence's time; 5 s when zero

	mu    sync.Mutex
	once  sync.Once
	steps []stopStep
}

type stopStep struct {
	name string
	f    func()
}

// Defer adds a step that runs before the steps deferred earlier.
func (s *Shutdown) Defer(name string, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, stopStep{name, f})
}

// Run runs the steps, once; later calls return at once.
func (s *Shutdown) Run() {
	s.once.Do(func() {
		s.mu.Lock()
		steps := append([]stopStep(nil), s.steps...)
		s.mu.Unlock()
		bound := s.Bound
		if bound <= 0 {
			bound = 5 * time.Second
		}
		log := s.Log
		if log == nil {
			log = slog.Default()
		}
		deadline := time.Now().Add(bound)
		for i := len(steps) - 1; i >= 0; i-- {
			if !runWithin(steps[i].f, time.Until(deadline)) {
				log.Warn("quit: step did not finish in time; going on", "step", steps[i].name, "bound", bound)
			}
		}
	})
}

// runWithin runs f and waits for it at most d (at least a moment, so that
// a quick step still completes when the bound is spent).
func runWithin(f func(), d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	if d < 50*time.Millisecond {
		d = 50 * time.Millisecond
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}
