package appinfo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// HoldInstance takes the instance lock for a command that must not run
// beside a running Forkwatch (`uninstall`, which removes the folder the
// running one records into), without creating anything: when the lock
// file does not exist no Forkwatch has run, and release is a no-op. When
// another process holds the lock, the error wraps ErrAlreadyRunning and pid
// is its pid (0 when the file does not say).
func HoldInstance(support string) (release func(), pid int, err error) {
	p := filepath.Join(support, InstanceLockName)
	f, err := os.OpenFile(p, os.O_RDWR|unix.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return func() {}, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("open %s: %w", p, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			b := make([]byte, 32)
			n, _ := f.ReadAt(b, 0)
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
			if pid > 0 {
				return nil, pid, fmt.Errorf("%w (pid %d)", ErrAlreadyRunning, pid)
			}
			return nil, 0, fmt.Errorf("%w (%s is locked)", ErrAlreadyRunning, p)
		}
		return nil, 0, fmt.Errorf("lock %s: %w", p, err)
	}
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, 0, nil
}

// StopInstance asks the Forkwatch holding the lock (pid, as HoldInstance
// named it) to stop with SIGTERM, which the app and `watch` take as a clean
// stop (they save the history and release the lock), and waits, at most
// bound, until the lock is free; it returns the lock held. The pid comes
// from the lock file in the user's own private support folder, written by
// the holder, and signal(2) lets a user signal only their own processes.
func StopInstance(ctx context.Context, support string, pid int, bound time.Duration) (release func(), err error) {
	if pid <= 0 {
		return nil, errors.New("the running Forkwatch did not write its pid; stop it yourself (Quit in the menu, or Ctrl-C in its terminal)")
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return nil, fmt.Errorf("stop pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(bound)
	for {
		release, _, err := HoldInstance(support)
		if err == nil {
			return release, nil
		}
		if !errors.Is(err, ErrAlreadyRunning) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("pid %d did not stop within %v", pid, bound)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
