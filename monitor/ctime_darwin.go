//go:build darwin

package monitor

import (
	"io/fs"
	"syscall"
	"time"
)

// ctimeOf is the status-change time of an os.Lstat result (Darwin's
// syscall.Stat_t names it Ctimespec).
func ctimeOf(fi fs.FileInfo) (time.Time, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(st.Ctimespec.Unix()), true
}
