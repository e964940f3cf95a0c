package monitor

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeKqueue stands for kqueue(2): descriptors are numbers it hands out
// and counts; events are pushed by the test.
type fakeKqueue struct {
	mu     sync.Mutex
	next   int
	open   map[int]string // descriptor -> what it is
	events chan []kqEvent
	woke   chan struct{}
	once   sync.Once
}

func newFakeKqueue() *fakeKqueue {
	f := &fakeKqueue{next: 3, open: map[int]string{}, events: make(chan []kqEvent, 16), woke: make(chan struct{})}
	for _, what := range []string{"kqueue", "pipe read end", "pipe write end"} {
		f.open[f.next] = what
		f.next++
	}
	return f
}

func (f *fakeKqueue) openDir(dir string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fd := f.next
	f.next++
	f.open[fd] = dir
	return fd, nil
}
func (f *fakeKqueue) watchDir(int) error { return nil }
func (f *fakeKqueue) wait(buf []kqEvent) (int, bool, error) {
	select {
	case evs := <-f.events:
		return copy(buf, evs), false, nil
	case <-f.woke:
		return 0, true, nil
	}
}
func (f *fakeKqueue) wake() error { f.once.Do(func() { close(f.woke) }); return nil }
func (f *fakeKqueue) closeFD(fd int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.open[fd]; !ok {
		return fmt.Errorf("close %d: bad descriptor", fd)
	}
	delete(f.open, fd)
	return nil
}
func (f *fakeKqueue) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for fd, what := range f.open {
		switch what {
		case "kqueue", "pipe read end", "pipe write end":
			delete(f.open, fd)
		}
	}
	return nil
}
func (f *fakeKqueue) fdFor(dir string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for fd, what := range f.open {
		if what == dir {
			return fd
		}
	}
	return -1
}
func (f *fakeKqueue) left() map[int]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int]string{}
	for k, v := range f.open {
		out[k] = v
	}
	return out
}

// TestFolderQueueCloseReleasesAll: Close ends the loop although nobody
// reads the events (the channel is full and the loop is blocked sending)
// and releases every descriptor: each folder's, the queue's, both ends of
// the wake pipe.
func TestFolderQueueCloseReleasesAll(t *testing.T) {
	sys := newFakeKqueue()
	q := newFolderQueue(sys)
	for _, d := range []string{"/r", "/r/Retired", "/cores"} {
		if err := q.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	fd := sys.fdFor("/r")
	// Far more events than the channel holds, and nobody reading.
	for i := 0; i < 10; i++ {
		burst := make([]kqEvent, 32)
		for j := range burst {
			burst[j] = kqEvent{fd: fd}
		}
		sys.events <- burst
	}
	time.Sleep(50 * time.Millisecond)
	closed := make(chan error)
	go func() { closed <- q.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked behind a full event channel")
	}
	if left := sys.left(); len(left) != 0 {
		t.Errorf("descriptors left open: %v", left)
	}
	n := 0
	for range q.Events() { // closed by the loop: this ends
		n++
	}
	if n == 0 {
		t.Error("no events were delivered before Close")
	}
	if err := q.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := q.Add("/again"); err == nil {
		t.Error("Add after Close succeeded")
	}
}

// TestFolderQueueFolderGone: NOTE_DELETE (or RENAME) on a folder's
// descriptor reports the folder removed and closes its descriptor, so that
// the watcher's next Add of the path (a folder made again) opens a new one.
func TestFolderQueueFolderGone(t *testing.T) {
	sys := newFakeKqueue()
	q := newFolderQueue(sys)
	defer q.Close()
	q.Add("/r")
	old := sys.fdFor("/r")
	sys.events <- []kqEvent{{fd: old, gone: true}}
	select {
	case ev := <-q.Events():
		if ev != (dirEvent{Path: "/r", Folder: true, Remove: true}) {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	if _, open := sys.left()[old]; open {
		t.Error("the old folder's descriptor is still open")
	}
	if err := q.Add("/r"); err != nil {
		t.Fatal(err)
	}
	if fd := sys.fdFor("/r"); fd == old || fd < 0 {
		t.Errorf("no new descriptor for the folder made again (%d, old %d)", fd, old)
	}
	if err := q.Remove("/r"); err != nil || sys.fdFor("/r") >= 0 {
		t.Errorf("Remove: %v", err)
	}
	// An event for a descriptor no longer watched is dropped.
	sys.events <- []kqEvent{{fd: old}}
	select {
	case ev := <-q.Events():
		t.Errorf("event for a closed descriptor: %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
}
