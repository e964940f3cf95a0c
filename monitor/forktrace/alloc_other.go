//go:build !linux

package forktrace

import (
	"errors"
	"os"
)

// allocate cannot fill the holes of a file in place here (macOS's
// F_PREALLOCATE reserves space past the end, not in holes): CreateRing
// rebuilds the file instead.
func allocate(*os.File) error { return errors.New("no in-place allocation") }
