package monitor

import (
	"context"
	"os"
	"time"
)

// WatchFolders calls onChange (from its own goroutine, at most once per
// settle interval) when an entry in one of dirs changes. The app uses it to
// read the toggles again when a start-up file or a LaunchAgent changes. It
// watches folders only, as the crash watcher does on macOS; folders that do
// not exist are skipped. It returns when ctx is done.
func WatchFolders(ctx context.Context, dirs []string, settle time.Duration, onChange func()) error {
	n, err := newPlatformNotifier(true)
	if err != nil {
		return err
	}
	defer n.Close()
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			n.Add(d)
		}
	}
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-n.Events():
			if !ok {
				return nil
			}
			if timer == nil {
				timer = time.After(settle)
			}
		case <-n.Errors():
		case <-timer:
			timer = nil
			onChange()
		}
	}
}
