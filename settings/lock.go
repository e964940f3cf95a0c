package settings

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/forkwatch/forkwatch/internal/safefs"
)

// Lock serialises changes between processes (two `forkwatch set` commands,
// or the menu and a terminal): it holds an flock(2) on a file in dir until
// the returned function is called. It waits for another holder. dir must be
// this user's folder, not a link; settings.lock is opened from it without
// following a link (internal/safefs).
func Lock(dir string) (unlock func(), err error) {
	f, err := openLockFile(dir, "settings.lock")
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// TryLock takes an flock(2) on path without waiting; ok is false when
// another process holds it (a second Forkwatch app). The lock lasts until
// the returned function is called or the process exits. The file is opened
// as Lock's is: no link is followed.
func TryLock(path string) (unlock func(), ok bool, err error) {
	f, err := openLockFile(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if err == syscall.EWOULDBLOCK {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, true, nil
}

// openLockFile creates dir (0700) when missing and opens name in it with
// internal/safefs: the folder must be ours and not a link, the file a
// regular file of ours, not a link.
func openLockFile(dir, name string) (*os.File, error) {
	d, err := safefs.MkdirAndOpen(dir, 0o700, os.Geteuid())
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
}
