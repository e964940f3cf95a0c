//go:build unix

package safefs

import (
	"os"

	"golang.org/x/sys/unix"
)

// clearNonblock turns O_NONBLOCK off again on an open file.
func clearNonblock(f *os.File) error {
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	_, err = unix.FcntlInt(f.Fd(), unix.F_SETFL, fl&^unix.O_NONBLOCK)
	return err
}
