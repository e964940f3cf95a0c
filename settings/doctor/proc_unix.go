//go:build unix

package doctor

import (
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// lowerCoreLimit sets this process's soft RLIMIT_CORE to 0 so the probe
// interpreters, which inherit it across fork and exec (setrlimit(2)),
// start with no core file allowed; os/exec has no per-child rlimit. The
// hard limit stays, so restore can raise the soft one back. The probe
// script also calls resource.setrlimit(RLIMIT_CORE, (0, 0)) first thing,
// in case this fails.
func lowerCoreLimit() (restore func(), err error) {
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &old); err != nil {
		return func() {}, err
	}
	zero := unix.Rlimit{Cur: 0, Max: old.Max}
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &zero); err != nil {
		return func() {}, err
	}
	return func() { _ = unix.Setrlimit(unix.RLIMIT_CORE, &old) }, nil
}

// writableDir reports whether this user may create files in dir
// (access(2) with W_OK|X_OK), as the crashing process would need to.
func writableDir(dir string) bool {
	return unix.Access(dir, unix.W_OK|unix.X_OK) == nil
}

// signalName names a signal number as this system numbers them (SIGABRT).
func signalName(n int) string {
	if s := unix.SignalName(syscall.Signal(n)); s != "" {
		return s
	}
	return "signal " + strconv.Itoa(n)
}
