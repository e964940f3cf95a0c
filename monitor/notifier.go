package monitor

import (
	"errors"
	"path/filepath"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// dirNotifier tells the watcher that something changed in a folder. Two
// kinds of events: a file event names the file (inotify gives us that), a
// folder event names only the folder, which the watcher then rescans.
//
// Why two kinds: fsnotify's kqueue backend (macOS) opens a descriptor for
// every file in a watched folder (fsnotify README, "kqueue notes") and
// DiagnosticReports can hold thousands of reports, so on macOS we watch the
// folders alone with our own small kqueue (notifier_darwin.go), which only
// says "this folder's entries changed". Everywhere else fsnotify watches a
// folder with one inotify watch and names the file.
type dirNotifier interface {
	Add(dir string) error
	Remove(dir string) error
	Events() <-chan dirEvent
	Errors() <-chan error
	Close() error
}

type dirEvent struct {
	Path   string
	Folder bool // Path is a folder whose entries changed: rescan it
	Remove bool // Path was removed or renamed away
	Create bool // Path was created or moved in (a whole file, often)
}

// errOverflow means events were lost: rescan everything.
var errOverflow = errors.New("event queue overflowed")

// fsnotifyNotifier adapts fsnotify. With folderOnly it reports only the
// folder, as the macOS notifier does, so that path can be tested on Linux.
type fsnotifyNotifier struct {
	w          *fsnotify.Watcher
	events     chan dirEvent
	errors     chan error
	folderOnly bool
	done       chan struct{}

	mu   sync.Mutex
	dirs map[string]bool // the folders added, to tell their own removal apart
}

func newFsnotify(folderOnly bool) (*fsnotifyNotifier, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	n := &fsnotifyNotifier{w: w, events: make(chan dirEvent, 256), errors: make(chan error, 8), folderOnly: folderOnly, done: make(chan struct{}), dirs: map[string]bool{}}
	go n.loop()
	return n, nil
}

func (n *fsnotifyNotifier) loop() {
	defer close(n.events)
	for {
		select {
		case ev, ok := <-n.w.Events:
			if !ok {
				return
			}
			de := dirEvent{Path: ev.Name, Remove: ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename), Create: ev.Has(fsnotify.Create)}
			if n.folderOnly {
				n.mu.Lock()
				self := n.dirs[ev.Name]
				n.mu.Unlock()
				if self && (de.Remove || de.Create) {
					// The watched folder itself went (or another was
					// moved in over it), as kqueue's NOTE_DELETE or
					// NOTE_RENAME on its descriptor says.
					de = dirEvent{Path: ev.Name, Folder: true, Remove: true}
				} else {
					de = dirEvent{Path: filepath.Dir(ev.Name), Folder: true}
				}
			}
			select {
			case n.events <- de:
			case <-n.done:
				return
			}
		case err, ok := <-n.w.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				err = errOverflow
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

func (n *fsnotifyNotifier) Remove(dir string) error {
	n.mu.Lock()
	delete(n.dirs, dir)
	n.mu.Unlock()
	return n.w.Remove(dir)
}
func (n *fsnotifyNotifier) Events() <-chan dirEvent { return n.events }
func (n *fsnotifyNotifier) Errors() <-chan error    { return n.errors }
func (n *fsnotifyNotifier) Close() error {
	close(n.done)
	return n.w.Close()
}
