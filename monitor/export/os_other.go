//go:build !darwin

package export

import "golang.org/x/sys/unix"

// osVersion is the kernel release elsewhere (uname -r), the os.version the
// conventions give for Linux.
func osVersion() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}
