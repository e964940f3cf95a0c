package dirwatch

import (
	"fmt"
	"sync"
)

// The macOS notifier's logic, kept here (compiled and tested on every
// system) with the kernel calls behind kqueueSys; kqueue_darwin.go supplies
// kqueue(2), and the tests a fake.

// kqueueSys is what folderQueue needs from the kernel.
type kqueueSys interface {
	// open opens a folder (dir) or a file for events only
	// (O_EVTONLY|O_CLOEXEC on macOS; O_NONBLOCK for a file, so that a FIFO
	// does not block).
	open(path string, dir bool) (int, error)
	// watch registers a descriptor for EVFILT_VNODE with gen in the
	// kevent's udata, which every event for it carries back: a folder for
	// NOTE_WRITE (its entries changed), NOTE_DELETE, NOTE_RENAME and
	// NOTE_REVOKE; a file also for NOTE_EXTEND and NOTE_ATTRIB.
	watch(fd int, gen uint64, dir bool) error
	// wait blocks until events arrive; it returns them, or woke when wake
	// was called. EINTR is retried inside.
	wait(buf []kqEvent) (n int, woke bool, err error)
	// wake makes a blocked wait return.
	wake() error
	// closeFD closes a watched descriptor (which removes its kevents).
	closeFD(fd int) error
	// close releases the queue and the wake pipe's two ends.
	close() error
}

// kqEvent is one vnode event: the descriptor, the generation registered
// with it, and whether the folder or file itself went (NOTE_DELETE,
// NOTE_RENAME, NOTE_REVOKE).
type kqEvent struct {
	fd   int
	gen  uint64
	gone bool
}

// kqWatch is one watched path.
type kqWatch struct {
	path string
	gen  uint64
	dir  bool
}

// folderQueue is the Notifier of macOS: one descriptor per folder or file,
// a folder event per change of a folder's entries (the rescan left to the
// caller), a file event per change of a watched file.
//
// Generations: the kernel hands out the lowest free descriptor (open(2)),
// so after Remove(A) closes 7 an Add(B) may get 7 again. An event for A
// read by kevent before Remove, and handled after Add(B), would then be
// taken for B's, and A's NOTE_DELETE would drop B's watch. Each watch gets
// a new generation, registered in the kevent's udata ("opaque user data
// identifier", kevent(2)) and returned with every event; an event whose
// generation is not the descriptor's current one is stale and dropped.
type folderQueue struct {
	sys     kqueueSys
	mu      sync.Mutex
	byFD    map[int]kqWatch
	byPath  map[string]int
	lastGen uint64
	events  chan Event
	errors  chan error
	done    chan struct{} // closed by Close: the loop stops sending
	ended   chan struct{} // closed when the loop has returned
	once    sync.Once
	err     error
}

func newFolderQueue(sys kqueueSys) *folderQueue {
	q := &folderQueue{sys: sys, byFD: map[int]kqWatch{}, byPath: map[string]int{},
		events: make(chan Event, 256), errors: make(chan error, 8), done: make(chan struct{}), ended: make(chan struct{})}
	go q.loop()
	return q
}

func (q *folderQueue) Add(dir string) error      { return q.add(dir, true) }
func (q *folderQueue) AddFile(path string) error { return q.add(path, false) }

func (q *folderQueue) add(path string, dir bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if fd, ok := q.byPath[path]; ok {
		if q.byFD[fd].dir == dir {
			return nil
		}
		// Watched as the other kind: watch it afresh.
		_ = q.drop(path)
	}
	select {
	case <-q.done:
		return fmt.Errorf("watch %s: notifier closed", path)
	default:
	}
	fd, err := q.sys.open(path, dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	q.lastGen++
	gen := q.lastGen
	if err := q.sys.watch(fd, gen, dir); err != nil {
		q.sys.closeFD(fd)
		return fmt.Errorf("kevent %s: %w", path, err)
	}
	q.byFD[fd], q.byPath[path] = kqWatch{path: path, gen: gen, dir: dir}, fd
	return nil
}

func (q *folderQueue) Remove(path string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.drop(path)
}

// drop closes a path's descriptor; q.mu is held.
func (q *folderQueue) drop(path string) error {
	fd, ok := q.byPath[path]
	if !ok {
		return nil
	}
	delete(q.byPath, path)
	delete(q.byFD, fd)
	return q.sys.closeFD(fd)
}

// resolve finds the watch an event is for, or ok=false for a stale event
// (its descriptor closed, or closed and handed out again to another watch).
// A watch whose path went is dropped: its descriptor follows the old folder
// or file, and a new one at the path needs a new descriptor, which the
// caller's Add opens once it exists again.
func (q *folderQueue) resolve(ev kqEvent) (kqWatch, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	w, ok := q.byFD[ev.fd]
	if !ok || w.gen != ev.gen {
		return kqWatch{}, false
	}
	if ev.gone {
		_ = q.drop(w.path)
	}
	return w, true
}

func (q *folderQueue) loop() {
	defer close(q.ended)
	defer close(q.events)
	buf := make([]kqEvent, 32)
	for {
		n, woke, err := q.sys.wait(buf)
		if woke {
			return
		}
		if err != nil {
			select {
			case q.errors <- fmt.Errorf("kevent: %w", err):
			default:
			}
			return
		}
		for _, ev := range buf[:n] {
			w, ok := q.resolve(ev)
			if !ok {
				continue
			}
			out := Event{Path: w.path, Folder: w.dir, File: !w.dir, Remove: ev.gone}
			select {
			case q.events <- out:
			case <-q.done:
				return // nobody reads any more: do not block Close
			}
		}
	}
}

func (q *folderQueue) Events() <-chan Event { return q.events }
func (q *folderQueue) Errors() <-chan error { return q.errors }

// Close ends the loop (even when nobody reads Events), then releases every
// descriptor: the watched paths', the queue's and both ends of the wake
// pipe.
func (q *folderQueue) Close() error {
	q.once.Do(func() {
		close(q.done)
		werr := q.sys.wake()
		<-q.ended
		q.mu.Lock()
		for p := range q.byPath {
			_ = q.drop(p)
		}
		q.mu.Unlock()
		if err := q.sys.close(); err != nil {
			q.err = err
		} else if werr != nil {
			q.err = werr
		}
	})
	return q.err
}
