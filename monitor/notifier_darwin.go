//go:build darwin

package monitor

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// newPlatformNotifier on macOS watches folders only: one descriptor per
// folder, opened with O_EVTONLY (which does not keep a volume busy), and
// EVFILT_VNODE/NOTE_WRITE, which kqueue raises on a directory when an entry
// is added, removed or renamed (kqueue(2)). The watcher rescans the folder.
// This costs one descriptor per folder however many reports it holds, where
// fsnotify's kqueue backend would open one per report. The logic is
// folderQueue's (notifier_kqueue.go); this file is the system calls.
func newPlatformNotifier(folderOnly bool) (dirNotifier, error) {
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

func (k *kqueueDarwin) openDir(dir string) (int, error) {
	return unix.Open(dir, unix.O_EVTONLY|unix.O_CLOEXEC|unix.O_DIRECTORY, 0)
}

func (k *kqueueDarwin) watchDir(fd int) error {
	ch := make([]unix.Kevent_t, 1)
	unix.SetKevent(&ch[0], fd, unix.EVFILT_VNODE, unix.EV_ADD|unix.EV_ENABLE|unix.EV_CLEAR)
	ch[0].Fflags = unix.NOTE_WRITE | unix.NOTE_DELETE | unix.NOTE_RENAME | unix.NOTE_REVOKE | unix.NOTE_EXTEND
	_, err := unix.Kevent(k.kq, ch, nil, nil)
	return err
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
			buf[out] = kqEvent{fd: int(ev.Ident), gone: ev.Fflags&(unix.NOTE_DELETE|unix.NOTE_RENAME|unix.NOTE_REVOKE) != 0}
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
