//go:build darwin

package monitor

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// newPlatformNotifier on macOS watches folders only: one descriptor per
// folder, opened with O_EVTONLY (which does not keep a volume busy), and
// EVFILT_VNODE/NOTE_WRITE, which kqueue raises on a directory when an entry
// is added, removed or renamed (kqueue(2)). The watcher rescans the folder.
// This costs one descriptor per folder however many reports it holds, where
// fsnotify's kqueue backend would open one per report.
func newPlatformNotifier(folderOnly bool) (dirNotifier, error) {
	return newKqueueFolders()
}

type kqueueFolders struct {
	kq     int
	wake   [2]int // a pipe: Close writes to it to end the read loop
	mu     sync.Mutex
	byFD   map[int]string
	byPath map[string]int
	events chan dirEvent
	errors chan error
	once   sync.Once
}

func newKqueueFolders() (*kqueueFolders, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, fmt.Errorf("kqueue: %w", err)
	}
	k := &kqueueFolders{kq: kq, byFD: map[int]string{}, byPath: map[string]int{}, events: make(chan dirEvent, 256), errors: make(chan error, 8)}
	if err := unix.Pipe(k.wake[:]); err != nil {
		unix.Close(kq)
		return nil, fmt.Errorf("pipe: %w", err)
	}
	ch := make([]unix.Kevent_t, 1)
	unix.SetKevent(&ch[0], k.wake[0], unix.EVFILT_READ, unix.EV_ADD|unix.EV_ENABLE)
	if _, err := unix.Kevent(kq, ch, nil, nil); err != nil {
		k.closeFDs()
		return nil, fmt.Errorf("kevent: %w", err)
	}
	go k.loop()
	return k, nil
}

func (k *kqueueFolders) Add(dir string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.byPath[dir]; ok {
		return nil
	}
	fd, err := unix.Open(dir, unix.O_EVTONLY|unix.O_CLOEXEC|unix.O_DIRECTORY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	ch := make([]unix.Kevent_t, 1)
	unix.SetKevent(&ch[0], fd, unix.EVFILT_VNODE, unix.EV_ADD|unix.EV_ENABLE|unix.EV_CLEAR)
	ch[0].Fflags = unix.NOTE_WRITE | unix.NOTE_DELETE | unix.NOTE_RENAME | unix.NOTE_REVOKE | unix.NOTE_EXTEND
	if _, err := unix.Kevent(k.kq, ch, nil, nil); err != nil {
		unix.Close(fd)
		return fmt.Errorf("kevent %s: %w", dir, err)
	}
	k.byFD[fd], k.byPath[dir] = dir, fd
	return nil
}

func (k *kqueueFolders) Remove(dir string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	fd, ok := k.byPath[dir]
	if !ok {
		return nil
	}
	delete(k.byPath, dir)
	delete(k.byFD, fd)
	return unix.Close(fd) // closing the descriptor removes its kevents
}

func (k *kqueueFolders) loop() {
	defer close(k.events)
	buf := make([]unix.Kevent_t, 32)
	for {
		n, err := unix.Kevent(k.kq, nil, buf, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			select {
			case k.errors <- fmt.Errorf("kevent: %w", err):
			default:
			}
			return
		}
		for _, ev := range buf[:n] {
			fd := int(ev.Ident)
			if fd == k.wake[0] {
				return
			}
			k.mu.Lock()
			dir, ok := k.byFD[fd]
			k.mu.Unlock()
			if !ok {
				continue
			}
			gone := ev.Fflags&(unix.NOTE_DELETE|unix.NOTE_RENAME|unix.NOTE_REVOKE) != 0
			k.events <- dirEvent{Path: dir, Folder: true, Remove: gone}
		}
	}
}

func (k *kqueueFolders) Events() <-chan dirEvent { return k.events }
func (k *kqueueFolders) Errors() <-chan error    { return k.errors }

func (k *kqueueFolders) Close() error {
	k.once.Do(func() {
		unix.Write(k.wake[1], []byte{0})
		k.mu.Lock()
		for fd := range k.byFD {
			unix.Close(fd)
		}
		k.byFD, k.byPath = map[int]string{}, map[string]int{}
		k.mu.Unlock()
	})
	return nil
}

func (k *kqueueFolders) closeFDs() {
	unix.Close(k.kq)
	unix.Close(k.wake[0])
	unix.Close(k.wake[1])
}
