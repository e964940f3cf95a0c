//go:build darwin

package dirwatch

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// newPlatform on macOS watches folders only: one descriptor per folder,
// opened with O_EVTONLY (which does not keep a volume busy), and
// EVFILT_VNODE/NOTE_WRITE, which kqueue raises on a directory when an entry
// is added, removed or renamed (kqueue(2)). The caller rescans the folder.
// This costs one descriptor per folder however many files it holds, where
// fsnotify's kqueue backend would open one per file. A file watched with
// AddFile gets a descriptor of its own. The logic is folderQueue's
// (queue.go); this file is the system calls.
func newPlatform(bool) (Notifier, error) {
	sys, err := newKqueueDarwin()
	if err != nil {
		return nil, err
	}
	return newFolderQueue(sys), nil
}

type kqueueDarwin struct {
	kq   int
	r, w *os.File // the wake pipe: Close writes to w to end the wait
	rfd  int      // r's descriptor, registered for EVFILT_READ
}

func newKqueueDarwin() (*kqueueDarwin, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, fmt.Errorf("kqueue: %w", err)
	}
	// A kqueue is not inherited across fork (kqueue(2)); marked anyway,
	// like every descriptor Forkwatch opens.
	unix.CloseOnExec(kq)
	// os.Pipe, not unix.Pipe: on darwin unix.Pipe is pipe(2) without
	// close-on-exec, and every program Forkwatch starts would inherit
	// both ends; os.Pipe sets FD_CLOEXEC under syscall.ForkLock.
	r, w, err := os.Pipe()
	if err != nil {
		unix.Close(kq)
		return nil, fmt.Errorf("pipe: %w", err)
	}
	k := &kqueueDarwin{kq: kq, r: r, w: w, rfd: int(r.Fd())}
	ch := make([]unix.Kevent_t, 1)
	unix.SetKevent(&ch[0], k.rfd, unix.EVFILT_READ, unix.EV_ADD|unix.EV_ENABLE)
	if _, err := unix.Kevent(kq, ch, nil, nil); err != nil {
		k.close()
		return nil, fmt.Errorf("kevent: %w", err)
	}
	return k, nil
}

func (k *kqueueDarwin) open(path string, dir bool) (int, error) {
	if dir {
		return unix.Open(path, unix.O_EVTONLY|unix.O_CLOEXEC|unix.O_DIRECTORY, 0)
	}
	return unix.Open(path, unix.O_EVTONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
}

func (k *kqueueDarwin) watch(fd int, gen uint64, dir bool) error {
	ch := make([]unix.Kevent_t, 1)
	unix.SetKevent(&ch[0], fd, unix.EVFILT_VNODE, unix.EV_ADD|unix.EV_ENABLE|unix.EV_CLEAR)
	ch[0].Fflags = unix.NOTE_WRITE | unix.NOTE_DELETE | unix.NOTE_RENAME | unix.NOTE_REVOKE | unix.NOTE_EXTEND
	if !dir {
		ch[0].Fflags |= unix.NOTE_ATTRIB
	}
	ch[0].Udata = genToUdata(gen)
	_, err := unix.Kevent(k.kq, ch, nil, nil)
	return err
}

// genToUdata stores a generation in a kevent's udata, which x/sys/unix
// types as *byte. The kernel keeps it as an opaque word and returns it
// unchanged (kevent(2): "udata: opaque user data identifier"); it never
// points at Go memory, as in the Go runtime's own netpoll_kqueue.go, which
// keeps a tagged word there. Generations count from 1, far below any heap
// address, so the collector ignores the value. The word is copied bit for
// bit rather than converted from uintptr, which is what go vet's unsafeptr
// check and -race's checkptr forbid for a non-pointer.
func genToUdata(gen uint64) *byte {
	w := uintptr(gen)
	return *(**byte)(unsafe.Pointer(&w))
}

func udataToGen(p *byte) uint64 {
	return uint64(uintptr(unsafe.Pointer(p)))
}

func (k *kqueueDarwin) wait(buf []kqEvent) (int, bool, error) {
	raw := make([]unix.Kevent_t, len(buf))
	for {
		n, err := unix.Kevent(k.kq, nil, raw, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, false, err
		}
		out := 0
		for _, ev := range raw[:n] {
			if int(ev.Ident) == k.rfd {
				return 0, true, nil
			}
			buf[out] = kqEvent{fd: int(ev.Ident), gen: udataToGen(ev.Udata), gone: ev.Fflags&(unix.NOTE_DELETE|unix.NOTE_RENAME|unix.NOTE_REVOKE) != 0}
			out++
		}
		return out, false, nil
	}
}

func (k *kqueueDarwin) wake() error {
	_, err := k.w.Write([]byte{0})
	return err
}

func (k *kqueueDarwin) closeFD(fd int) error { return unix.Close(fd) }

func (k *kqueueDarwin) close() error {
	return errors.Join(unix.Close(k.kq), k.r.Close(), k.w.Close())
}
