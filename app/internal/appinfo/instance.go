package appinfo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/forkwatch/forkwatch/internal/safefs"
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
//
// The support folder and the lock file are opened without following links
// (internal/safefs: the folder must be a folder of this user's, not
// writable by others; the file is opened O_NOFOLLOW from the folder's
// descriptor and must be a regular file of this user's before it is
// truncated): a forkwatch.pid planted as a link to another file, or a
// support folder that is a link, is refused, never truncated through
// (issue 28: root with the user's HOME truncated a root file that way).
func AcquireInstance(support string) (release func(), err error) {
	d, err := safefs.MkdirAndOpen(support, 0o700, os.Geteuid())
	if err != nil {
		return nil, err
	}
	defer d.Close()
	p := filepath.Join(support, InstanceLockName)
	f, err := d.OpenFile(InstanceLockName, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
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

// LogName is the app's log file in LogDir.
const LogName = "forkwatch.log"

// OpenLog opens the app's log for appending, made if missing; one larger
// than maxSize is first moved aside to forkwatch.log.1 (so the log stays
// under about twice that). Like the instance lock, the folder and the file
// are opened without following links (internal/safefs): a forkwatch.log
// that is a link to another file is refused, never appended to.
func OpenLog(maxSize int64) (*os.File, error) {
	d, err := safefs.MkdirAndOpen(LogDir(), 0o700, os.Geteuid())
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if fi, err := d.Root().Lstat(LogName); err == nil && fi.Mode().IsRegular() && fi.Size() > maxSize {
		d.Root().Rename(LogName, LogName+".1")
	}
	return d.OpenFile(LogName, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
}
