package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// errAlreadyRunning means another Forkwatch (the app or `watch`) of this
// user holds the instance lock.
var errAlreadyRunning = errors.New("already running")

// instanceLockName is the lock file in the support folder; it holds the
// pid of the Forkwatch that owns it.
const instanceLockName = "forkwatch.pid"

// acquireInstance makes this process the one Forkwatch of this user that
// watches and records: an flock(2) on support/forkwatch.pid, held until
// release is called or the process exits (the kernel drops it with the
// file descriptor, so a crashed Forkwatch never leaves a stale lock). When
// another process holds it, the error wraps errAlreadyRunning and names its
// pid.
func acquireInstance(support string) (release func(), err error) {
	if err := os.MkdirAll(support, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", support, err)
	}
	p := filepath.Join(support, instanceLockName)
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
				return nil, fmt.Errorf("%w (pid %d)", errAlreadyRunning, pid)
			}
			return nil, fmt.Errorf("%w (%s is locked)", errAlreadyRunning, p)
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

// alreadyRunningHint is what to do about a second Forkwatch.
// lockInstance takes the one-Forkwatch lock for cmd ("forkwatch",
// "forkwatch watch") unless wf asks to run read-only, which then keeps no
// state. On failure it has said why on stderr; release is never nil.
func lockInstance(cmd string, wf *watchFlags, stderr io.Writer) (release func(), ok bool) {
	if wf.readOnly {
		wf.statePath, wf.stateSet = "", true
		return func() {}, true
	}
	release, err := acquireInstance(supportDir())
	if err != nil {
		if errors.Is(err, errAlreadyRunning) {
			fmt.Fprintf(stderr, "%s: Forkwatch is %v; %s\n", cmd, err, alreadyRunningHint)
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		}
		return func() {}, false
	}
	return release, true
}

const alreadyRunningHint = "stop it first, or add --read-only to watch beside it without recording"
