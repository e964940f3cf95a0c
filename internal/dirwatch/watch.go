package dirwatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Watch calls onChange (from its own goroutine, at most once per settle
// interval) when an entry in one of dirs changes, or when one of files is
// written, replaced, created or removed. It returns nil when ctx is done,
// and an error when no notifier can be made or the notifier stops.
//
// Folders are watched for their entries only, as kqueue gives them on
// macOS: an in-place edit of a file in a folder (an append to ~/.zshrc) is
// seen only through the file's own watch, so every file whose edits matter
// belongs in files. A file's parent folder is watched too, so that a file
// created later, or replaced by an atomic save, is picked up. A folder that
// does not exist yet (~/Library/LaunchAgents before the first agent) is
// watched through its nearest existing parent and picked up when it
// appears; one that is removed or replaced is watched again when it is
// back. A symlinked file is watched at its target (open(2) and
// inotify_add_watch follow the link), and watched again when the link or
// the target is replaced.
func Watch(ctx context.Context, dirs, files []string, settle time.Duration, onChange func()) error {
	return WatchReady(ctx, dirs, files, settle, nil, onChange)
}

// WatchReady is Watch that calls ready (when not nil) once the first
// watches are in place: a change after ready returns is seen. A caller
// that reads the watched files once at start reads them after ready, so
// that no change falls between its read and the watch.
func WatchReady(ctx context.Context, dirs, files []string, settle time.Duration, ready, onChange func()) error {
	n, err := New(true)
	if err != nil {
		return err
	}
	defer n.Close()
	s := newWatchSet(n, dirs, files)
	s.ensure()
	if ready != nil {
		ready()
	}
	var timer <-chan time.Time
	var lastErr error
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-n.Events():
			if !ok {
				return fmt.Errorf("watch: the notifier stopped: %w", errors.Join(errors.New("events closed"), lastErr))
			}
			s.handle(ev)
			if timer == nil {
				timer = time.After(settle)
			}
		case err := <-n.Errors():
			// Events were lost (or the queue failed): read everything
			// again, which is what a change would make the caller do.
			lastErr = err
			s.ensure()
			if timer == nil {
				timer = time.After(settle)
			}
		case <-timer:
			timer = nil
			onChange()
		}
	}
}

// watchSet keeps a notifier watching a fixed list of folders and files:
// each folder that exists, and for each one that does not, its nearest
// existing parent (so that its creation is an event), as the crash
// watcher's ensureWatches does; each file that exists, with the identity
// (device and inode of the target) it had when watched.
type watchSet struct {
	n         Notifier
	targets   []string
	files     []string
	watched   map[string]bool        // targets watched
	ancestors map[string]bool        // parents watched for missing targets
	fileIDs   map[string]os.FileInfo // files watched -> what was watched
}

func newWatchSet(n Notifier, dirs, files []string) *watchSet {
	targets := append([]string(nil), dirs...)
	seen := map[string]bool{}
	for _, d := range dirs {
		seen[filepath.Clean(d)] = true
	}
	for _, f := range files {
		if d := filepath.Dir(f); !seen[d] {
			seen[d] = true
			targets = append(targets, d)
		}
	}
	return &watchSet{n: n, targets: targets, files: files, watched: map[string]bool{}, ancestors: map[string]bool{}, fileIDs: map[string]os.FileInfo{}}
}

// handle drops the watch of a folder or file that was removed, renamed or
// replaced (its watch follows the old one) and then re-reads which
// folders and files exist.
func (s *watchSet) handle(ev Event) {
	if ev.File && (ev.Remove || ev.Create) {
		if _, ok := s.fileIDs[ev.Path]; ok {
			_ = s.n.Remove(ev.Path)
			delete(s.fileIDs, ev.Path)
		}
	}
	if !ev.File && (ev.Remove || ev.Create) && (s.watched[ev.Path] || s.ancestors[ev.Path]) {
		_ = s.n.Remove(ev.Path)
		delete(s.watched, ev.Path)
		delete(s.ancestors, ev.Path)
	}
	s.ensure()
}

// ensure watches every target folder that exists and the nearest existing
// parent of each that does not (parents no longer needed are let go), and
// every file that exists, again when it is not the file it was.
//
// It looks again after adding a watch on a parent: a folder made between
// the look at it and that watch raises no event (the watch came after
// it), as in the crash watcher's ensureWatches. Each round watches a
// deeper folder, so a path's depth bounds the rounds.
func (s *watchSet) ensure() {
	for range 256 {
		if !s.ensureOnce() {
			return
		}
	}
}

// ensureOnce is one round of ensure; it reports whether it added a watch
// on a parent folder.
func (s *watchSet) ensureOnce() (addedParent bool) {
	need := map[string]bool{}
	for _, t := range s.targets {
		fi, err := os.Stat(t)
		exists := err == nil && fi.IsDir()
		if exists && !s.watched[t] && s.n.Add(t) == nil {
			s.watched[t] = true
		}
		if !exists && s.watched[t] {
			_ = s.n.Remove(t)
			delete(s.watched, t)
		}
		if !s.watched[t] {
			if a := ExistingAncestor(t); a != "" && !s.watched[a] {
				need[a] = true
			}
		}
	}
	for a := range need {
		if !s.ancestors[a] && s.n.Add(a) == nil {
			s.ancestors[a] = true
			addedParent = true
		}
	}
	for a := range s.ancestors {
		if !need[a] {
			if !s.watched[a] {
				_ = s.n.Remove(a)
			}
			delete(s.ancestors, a)
		}
	}
	for _, f := range s.files {
		fi, err := os.Stat(f) // the target of a symlinked dotfile
		old, watched := s.fileIDs[f]
		switch {
		case err != nil || !fi.Mode().IsRegular():
			// Gone, or not a file to watch (a FIFO would block open).
			if watched {
				_ = s.n.Remove(f)
				delete(s.fileIDs, f)
			}
		case watched && os.SameFile(old, fi):
		default:
			if watched {
				_ = s.n.Remove(f)
				delete(s.fileIDs, f)
			}
			if s.n.AddFile(f) == nil {
				s.fileIDs[f] = fi
			}
		}
	}
	return addedParent
}

// ExistingAncestor is p's nearest existing parent folder, or "": what a
// watch for a folder that does not exist yet watches, so that the folder's
// creation (or a level of it) is an event. The crash watcher uses it too.
func ExistingAncestor(p string) string {
	for {
		parent := filepath.Dir(p)
		if parent == p {
			return ""
		}
		p = parent
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
	}
}
