package monitor

import (
	"fmt"
	"sync"
)

// The macOS folder notifier's logic, kept here (compiled and tested on
// every system) with the kernel calls behind kqueueSys; notifier_darwin.go
// supplies kqueue(2), and the tests a fake.

// kqueueSys is what folderQueue needs from the kernel.
type kqueueSys interface {
	// openDir opens a folder for events only (O_EVTONLY|O_CLOEXEC on macOS).
	openDir(dir string) (int, error)
	// watchDir registers a folder descriptor for NOTE_WRITE, NOTE_DELETE,
	// NOTE_RENAME and NOTE_REVOKE.
	watchDir(fd int) error
	// wait blocks until events arrive; it returns them, or woke when wake
	// was called. EINTR is retried inside.
	wait(buf []kqEvent) (n int, woke bool, err error)
	// wake makes a blocked wait return.
	wake() error
	// closeFD closes a folder descriptor (which removes its kevents).
	closeFD(fd int) error
	// close releases the queue and the wake pipe's two ends.
	close() error
}

// kqEvent is one vnode event: the descriptor and whether the folder itself
// went (NOTE_DELETE, NOTE_RENAME, NOTE_REVOKE).
type kqEvent struct {
	fd   int
	gone bool
}

// folderQueue is the dirNotifier of macOS: one descriptor per folder, a
// folder event per change, the rescan left to the watcher.
type folderQueue struct {
	sys    kqueueSys
	mu     sync.Mutex
	byFD   map[int]string
	byPath map[string]int
	events chan dirEvent
	errors chan error
	done   chan struct{} // closed by Close: the loop stops sending
	ended  chan struct{} // closed when the loop has returned
	once   sync.Once
	err    error
}

func newFolderQueue(sys kqueueSys) *folderQueue {
	q := &folderQueue{sys: sys, byFD: map[int]string{}, byPath: map[string]int{},
		events: make(chan dirEvent, 256), errors: make(chan error, 8), done: make(chan struct{}), ended: make(chan struct{})}
	go q.loop()
	return q
}

func (q *folderQueue) Add(dir string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.byPath[dir]; ok {
		return nil
	}
	select {
	case <-q.done:
		return fmt.Errorf("watch %s: notifier closed", dir)
	default:
	}
	fd, err := q.sys.openDir(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	if err := q.sys.watchDir(fd); err != nil {
		q.sys.closeFD(fd)
		return fmt.Errorf("kevent %s: %w", dir, err)
	}
	q.byFD[fd], q.byPath[dir] = dir, fd
	return nil
}

func (q *folderQueue) Remove(dir string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.drop(dir)
}

// drop closes a folder's descriptor; q.mu is held.
func (q *folderQueue) drop(dir string) error {
	fd, ok := q.byPath[dir]
	if !ok {
		return nil
	}
	delete(q.byPath, dir)
	delete(q.byFD, fd)
	return q.sys.closeFD(fd)
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
			q.mu.Lock()
			dir, ok := q.byFD[ev.fd]
			if ok && ev.gone {
				// The descriptor follows the old folder: a new one at
				// the path needs a new descriptor, which the watcher's
				// Add will open once it exists again.
				_ = q.drop(dir)
			}
			q.mu.Unlock()
			if !ok {
				continue
			}
			select {
			case q.events <- dirEvent{Path: dir, Folder: true, Remove: ev.gone}:
			case <-q.done:
				return // nobody reads any more: do not block Close
			}
		}
	}
}

func (q *folderQueue) Events() <-chan dirEvent { return q.events }
func (q *folderQueue) Errors() <-chan error    { return q.errors }

// Close ends the loop (even when nobody reads Events), then releases every
// descriptor: the folders', the queue's and both ends of the wake pipe.
func (q *folderQueue) Close() error {
	q.once.Do(func() {
		close(q.done)
		werr := q.sys.wake()
		<-q.ended
		q.mu.Lock()
		for dir := range q.byPath {
			_ = q.drop(dir)
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
