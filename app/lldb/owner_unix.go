//go:build unix

package lldb

import (
	"os"
	"syscall"
)

// fileOwner is the uid that owns a file.
func fileOwner(fi os.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// execProcess replaces this process with path and argv: Terminal's window
// then belongs to lldb, and no shell ever reads the arguments.
func execProcess(path string, argv, env []string) error {
	return syscall.Exec(path, argv, env)
}
