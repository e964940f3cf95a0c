package monitor

import (
	"context"
	"os"
	"time"
)

// WatchFolders calls onChange (from its own goroutine, at most once per
// settle interval) when an entry in one of dirs changes. The app uses it to
// read the toggles again when a start-up file or a LaunchAgent changes. It
// watches folders only, as the crash watcher does on macOS. A folder that
// does not exist yet (~/Library/LaunchAgents before the first agent) is
// watched through its nearest existing parent and picked up when it
// appears; one that is removed or replaced is watched again when it is
// back. It returns when ctx is done.
func WatchFolders(ctx context.Context, dirs []string, settle time.Duration, onChange func()) error {
	n, err := newPlatformNotifier(true)
	if err != nil {
		return err
	}
	defer n.Close()
	fs := newFolderSet(n, dirs)
	fs.ensure()
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-n.Events():
			if !ok {
				return nil
			}
			fs.handle(ev)
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

// folderSet keeps a notifier watching a fixed list of folders: each one
// that exists, and for each one that does not, its nearest existing parent
// (so that its creation is an event), as Watcher.ensureWatches does for the
// crash folders.
type folderSet struct {
	n         dirNotifier
	targets   []string
	watched   map[string]bool // targets watched
	ancestors map[string]bool // parents watched for missing targets
}

func newFolderSet(n dirNotifier, targets []string) *folderSet {
	return &folderSet{n: n, targets: targets, watched: map[string]bool{}, ancestors: map[string]bool{}}
}

// handle drops the watch of a folder that was removed, renamed or replaced
// (its watch follows the old folder) and then re-reads which folders exist.
func (f *folderSet) handle(ev dirEvent) {
	if (ev.Remove || ev.Create) && (f.watched[ev.Path] || f.ancestors[ev.Path]) {
		_ = f.n.Remove(ev.Path)
		delete(f.watched, ev.Path)
		delete(f.ancestors, ev.Path)
	}
	f.ensure()
}

// ensure watches every target that exists and the nearest existing parent
// of each that does not; parents no longer needed are let go.
func (f *folderSet) ensure() {
	need := map[string]bool{}
	for _, t := range f.targets {
		fi, err := os.Stat(t)
		exists := err == nil && fi.IsDir()
		if exists && !f.watched[t] && f.n.Add(t) == nil {
			f.watched[t] = true
		}
		if !exists && f.watched[t] {
			_ = f.n.Remove(t)
			delete(f.watched, t)
		}
		if !f.watched[t] {
			if a := existingAncestor(t); a != "" && !f.watched[a] {
				need[a] = true
			}
		}
	}
	for a := range need {
		if !f.ancestors[a] && f.n.Add(a) == nil {
			f.ancestors[a] = true
		}
	}
	for a := range f.ancestors {
		if !need[a] {
			if !f.watched[a] {
				_ = f.n.Remove(a)
			}
			delete(f.ancestors, a)
		}
	}
}
