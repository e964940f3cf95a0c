package monitor

import (
	"io/fs"
	"time"
)

// settledInfo says whether the report file fi describes (the os.Lstat the
// watcher made of it: one stat of a new report on the detection path, not
// two) will not grow, so that a report that does not parse whole is an
// excerpt to classify at once rather than a file still being written:
//
//   - its status changed after its last write (ctime after mtime): the last
//     thing done to it was a rename into the folder (rename(2) updates the
//     moved file's ctime on Linux and macOS; POSIX leaves it to the
//     implementation) or a chmod, not a write; docs/architecture.md: "a
//     rename into the folder is complete at once";
//   - or it was last written quiet ago or longer (a report moved in from
//     Downloads or copied with its time kept): unchanged for the quiet time
//     already, by its own clock.
//
// A writer writing in place updates mtime and ctime together (the same
// tick), so neither holds for it and the watcher waits as before. Anything
// it cannot tell (an mtime in the future) is not settled.
func settledInfo(fi fs.FileInfo, now time.Time, quiet time.Duration) bool {
	ctime, _ := ctimeOf(fi) // unknown: zero, never after mtime
	return settledTimes(fi.ModTime(), ctime, now, quiet)
}

func settledTimes(mtime, ctime, now time.Time, quiet time.Duration) bool {
	if ctime.After(mtime) {
		return true
	}
	return !mtime.After(now) && now.Sub(mtime) >= quiet
}
