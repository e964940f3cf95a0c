//go:build !darwin

package dirwatch

import (
	"errors"
	"path/filepath"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// fsnotifyNotifier adapts fsnotify (inotify on Linux). It is built only off
// macOS: there the folders are watched by folderQueue on kqueue(2).
//
// With folderOnly it gives macOS's folder semantics, so that those are what
// the tests here see: a change to a folder's entries (created, removed,
// renamed, moved in or out) is reported as an event naming the folder, and
// an in-place write or chmod of a file in the folder is dropped, because
// kqueue's EVFILT_VNODE NOTE_WRITE on a directory is raised when its
// entries change, not when a file in it is written (Apple, kqueue(2),
// EVFILT_VNODE; notify-rs/notify#372: "inotify reports events for changes
// to files contained in a folder if the folder is watched. Kqueue doesn't
// do this, each file has to be watched individually"; WerWolv/libwolv#49;
// gorakhargosh/watchdog#111). A file watched with AddFile reports its own
// writes in both modes, as a vnode watch on the file does on macOS.
type fsnotifyNotifier struct {
	w          *fsnotify.Watcher
	events     chan Event
	errors     chan error
	folderOnly bool
	done       chan struct{}
	once       sync.Once

	mu    sync.Mutex
	dirs  map[string]bool // the folders added, to tell their own removal apart
	files map[string]bool // the files added with AddFile
}

func newFsnotify(folderOnly bool) (*fsnotifyNotifier, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	n := &fsnotifyNotifier{w: w, events: make(chan Event, 256), errors: make(chan error, 8), folderOnly: folderOnly,
		done: make(chan struct{}), dirs: map[string]bool{}, files: map[string]bool{}}
	go n.loop()
	return n, nil
}

// translate turns one fsnotify event into what the caller gets (none, one
// or two events).
func (n *fsnotifyNotifier) translate(ev fsnotify.Event) []Event {
	n.mu.Lock()
	self, file := n.dirs[ev.Name], n.files[ev.Name]
	n.mu.Unlock()
	gone := ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)
	created := ev.Has(fsnotify.Create)
	var out []Event
	if file {
		// The file's own watch, or its folder's watch naming it: either
		// way the watched file changed, as its vnode watch would say.
		out = append(out, Event{Path: ev.Name, File: true, Remove: gone, Create: created})
	}
	if !n.folderOnly {
		if !file {
			out = append(out, Event{Path: ev.Name, Remove: gone, Create: created})
		}
		return out
	}
	switch {
	case self && (gone || created):
		// The watched folder itself went (or another was moved in over
		// it), as kqueue's NOTE_DELETE or NOTE_RENAME on its descriptor
		// says.
		out = append(out, Event{Path: ev.Name, Folder: true, Remove: true})
	case gone || created:
		// An entry was added, removed or renamed: the folder's NOTE_WRITE.
		out = append(out, Event{Path: filepath.Dir(ev.Name), Folder: true})
	default:
		// Write or Chmod of an entry: kqueue says nothing on the folder.
	}
	return out
}

func (n *fsnotifyNotifier) loop() {
	defer close(n.events)
	for {
		select {
		case ev, ok := <-n.w.Events:
			if !ok {
				return
			}
			for _, de := range n.translate(ev) {
				select {
				case n.events <- de:
				case <-n.done:
					return
				}
			}
		case err, ok := <-n.w.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				err = ErrOverflow
			}
			select {
			case n.errors <- err:
			default:
			}
		case <-n.done:
			return
		}
	}
}

func (n *fsnotifyNotifier) Add(dir string) error {
	if err := n.w.Add(dir); err != nil {
		return err
	}
	n.mu.Lock()
	n.dirs[dir] = true
	n.mu.Unlock()
	return nil
}

// AddFile watches a file with its own inotify watch (inotify_add_watch on
// the file follows a symlink to its target, as open(2) does for kqueue).
func (n *fsnotifyNotifier) AddFile(path string) error {
	n.mu.Lock()
	already := n.files[path]
	n.mu.Unlock()
	if already {
		// fsnotify keeps one watch per path; a second Add would be a no-op
		// and a stale watch (of a replaced file) must be dropped first.
		_ = n.w.Remove(path)
	}
	if err := n.w.Add(path); err != nil {
		n.mu.Lock()
		delete(n.files, path)
		n.mu.Unlock()
		return err
	}
	n.mu.Lock()
	n.files[path] = true
	n.mu.Unlock()
	return nil
}

func (n *fsnotifyNotifier) Remove(path string) error {
	n.mu.Lock()
	delete(n.dirs, path)
	delete(n.files, path)
	n.mu.Unlock()
	return n.w.Remove(path)
}
func (n *fsnotifyNotifier) Events() <-chan Event { return n.events }
func (n *fsnotifyNotifier) Errors() <-chan error { return n.errors }
func (n *fsnotifyNotifier) Close() error {
	n.once.Do(func() { close(n.done) })
	return n.w.Close()
}
