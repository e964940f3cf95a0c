package dirwatch

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeKqueue stands for kqueue(2): descriptors are numbers it hands out,
// the lowest free one first as open(2) does ("the file descriptor returned
// ... will be the lowest numbered file descriptor not currently open",
// POSIX open), so a closed descriptor is reused by the next open; it keeps
// the udata (generation) each was registered with; events are pushed by
// the test.
type fakeKqueue struct {
	mu     sync.Mutex
	fds    map[int]string // descriptor -> what it is
	gens   map[int]uint64 // descriptor -> the udata registered with it
	events chan []kqEvent
	woke   chan struct{}
	once   sync.Once
}

func newFakeKqueue() *fakeKqueue {
	f := &fakeKqueue{fds: map[int]string{}, gens: map[int]uint64{}, events: make(chan []kqEvent, 16), woke: make(chan struct{})}
	for fd, what := range []string{"kqueue", "pipe read end", "pipe write end"} {
		f.fds[3+fd] = what
	}
	return f
}

func (f *fakeKqueue) alloc(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	fd := 0
	for {
		if _, used := f.fds[fd]; !used && fd > 2 {
			break
		}
		fd++
	}
	f.fds[fd] = path
	return fd
}
func (f *fakeKqueue) open(path string, dir bool) (int, error) { return f.alloc(path), nil }
func (f *fakeKqueue) watch(fd int, gen uint64, dir bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gens[fd] = gen
	return nil
}

// event is what kevent returns for path's current registration.
func (f *fakeKqueue) event(path string, gone bool) kqEvent {
	fd := f.fdFor(path)
	f.mu.Lock()
	defer f.mu.Unlock()
	return kqEvent{fd: fd, gen: f.gens[fd], gone: gone}
}
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
	if _, ok := f.fds[fd]; !ok {
		return fmt.Errorf("close %d: bad descriptor", fd)
	}
	delete(f.fds, fd)
	delete(f.gens, fd)
	return nil
}
func (f *fakeKqueue) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for fd, what := range f.fds {
		switch what {
		case "kqueue", "pipe read end", "pipe write end":
			delete(f.fds, fd)
		}
	}
	return nil
}
func (f *fakeKqueue) fdFor(dir string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for fd, what := range f.fds {
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
	for k, v := range f.fds {
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
	ev := sys.event("/r", false)
	// Far more events than the channel holds, and nobody reading.
	for i := 0; i < 10; i++ {
		burst := make([]kqEvent, 32)
		for j := range burst {
			burst[j] = ev
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
	gone := sys.event("/r", true)
	sys.events <- []kqEvent{gone}
	select {
	case ev := <-q.Events():
		if ev != (Event{Path: "/r", Folder: true, Remove: true}) {
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
	if fd := sys.fdFor("/r"); fd < 0 || sys.event("/r", false).gen == gone.gen {
		t.Errorf("no new watch for the folder made again (descriptor %d, old %d)", fd, old)
	}
	if err := q.Remove("/r"); err != nil || sys.fdFor("/r") >= 0 {
		t.Errorf("Remove: %v", err)
	}
	// An event for a descriptor no longer watched is dropped.
	sys.events <- []kqEvent{{fd: old, gen: gone.gen}}
	select {
	case ev := <-q.Events():
		t.Errorf("event for a closed descriptor: %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestFolderQueueStaleEventAfterReuse: kevent returned a NOTE_DELETE for
// folder A; before the loop handled it, Remove(A) closed A's descriptor and
// Add(B) got the same number back (open(2) hands out the lowest free
// descriptor). The stale event carries A's generation in its udata, so it
// is dropped: B stays watched and is not reported removed. Without the
// generation the event was taken for B's and B's watch was dropped (B's
// next change unseen until a rescan).
func TestFolderQueueStaleEventAfterReuse(t *testing.T) {
	sys := newFakeKqueue()
	q := newFolderQueue(sys)
	defer q.Close()
	if err := q.Add("/a"); err != nil {
		t.Fatal(err)
	}
	stale := sys.event("/a", true) // read by kevent, not yet handled
	if err := q.Remove("/a"); err != nil {
		t.Fatal(err)
	}
	if err := q.Add("/b"); err != nil {
		t.Fatal(err)
	}
	if fd := sys.fdFor("/b"); fd != stale.fd {
		t.Fatalf("the fake did not reuse the descriptor (a %d, b %d)", stale.fd, fd)
	}
	sys.events <- []kqEvent{stale}
	// B's own change, after the stale event: it must arrive, and be the
	// first thing that does.
	sys.events <- []kqEvent{sys.event("/b", false)}
	select {
	case ev := <-q.Events():
		if ev != (Event{Path: "/b", Folder: true}) {
			t.Fatalf("first event %+v, want B's change (the stale event for A was taken for B's)", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event for B")
	}
	if sys.fdFor("/b") < 0 {
		t.Error("B's descriptor was closed by A's stale event")
	}
	q.mu.Lock()
	_, watched := q.byPath["/b"]
	q.mu.Unlock()
	if !watched {
		t.Error("B is no longer watched")
	}
}

// TestFolderQueueFileWatch: a file added with AddFile has its own
// descriptor and its events name the file (File, not Folder); its
// NOTE_DELETE (an editor's atomic save replaced it) drops the watch so the
// caller adds the new file.
func TestFolderQueueFileWatch(t *testing.T) {
	sys := newFakeKqueue()
	q := newFolderQueue(sys)
	defer q.Close()
	if err := q.Add("/home"); err != nil {
		t.Fatal(err)
	}
	if err := q.AddFile("/home/.zshrc"); err != nil {
		t.Fatal(err)
	}
	if sys.fdFor("/home/.zshrc") < 0 || sys.fdFor("/home/.zshrc") == sys.fdFor("/home") {
		t.Fatal("the file has no descriptor of its own")
	}
	want := []Event{{Path: "/home/.zshrc", File: true}, {Path: "/home/.zshrc", File: true, Remove: true}}
	sys.events <- []kqEvent{sys.event("/home/.zshrc", false)}
	sys.events <- []kqEvent{sys.event("/home/.zshrc", true)}
	for _, w := range want {
		select {
		case ev := <-q.Events():
			if ev != w {
				t.Fatalf("event %+v, want %+v", ev, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
	}
	if sys.fdFor("/home/.zshrc") >= 0 {
		t.Error("the replaced file's descriptor is still open")
	}
	if sys.fdFor("/home") < 0 {
		t.Error("the folder's watch went with the file's")
	}
}
