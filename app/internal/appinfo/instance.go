package appinfo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrAlreadyRunning means another Forkwatch (the app or `watch`) of this
// user holds the instance lock.
var ErrAlreadyRunning = errors.New("already running")

// InstanceLockName is the lock file in the support folder; it holds the
// pid of the Forkwatch that owns it.
const InstanceLockName = "forkwatch.pid"

// AcquireInstance makes this process the one Forkwatch of this user that
// watches and records: an flock(2) on support/forkwatch.pid, held until
// release is called or the process exits (the kernel drops it with the
// file descriptor, so a crashed Forkwatch never leaves a stale lock). When
// another process holds it, the error wraps ErrAlreadyRunning and names its
// pid.
func AcquireInstance(support string) (release func(), err error) {
	if err := os.MkdirAll(support, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", support, err)
	}
	p := filepath.Join(support, InstanceLockName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			b := make([]byte, 32)
			n, _ := f.ReadAt(b, 0)
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b[:n]))); perr == nil && pid > 0 {
				return nil, fmt.Errorf("%w (pid %d)", ErrAlreadyRunning, pid)
			}
			return nil, fmt.Errorf("%w (%s is locked)", ErrAlreadyRunning, p)
		}
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	// Ours now: write our pid for the next one to name.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		f.Truncate(0)
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}

// AlreadyRunningHint is what to do about a second Forkwatch.
const AlreadyRunningHint = "stop it first, or add --read-only to watch beside it without recording"
