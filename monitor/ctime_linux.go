//go:build linux

package monitor

import (
	"io/fs"
	"syscall"
	"time"
)

// ctimeOf is the status-change time of an os.Lstat result.
func ctimeOf(fi fs.FileInfo) (time.Time, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(st.Ctim.Unix()), true
}
