//go:build unix

package atomicfile

import (
	"io/fs"
	"syscall"
)

type fileOwner struct{ uid, gid int }

// ownerOf returns the owner of a file so that a rewrite can keep it.
func ownerOf(fi fs.FileInfo) *fileOwner {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return &fileOwner{uid: int(st.Uid), gid: int(st.Gid)}
}
